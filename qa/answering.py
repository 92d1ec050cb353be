"""Stage 9: an extractive answer with citations — no model weights needed.

The answer is built from sentences of the retrieved passages, copied exactly, each marked with
the number of the passage it came from. When the question asks for a number, date, person, place
or list, a `short_answer` span is copied from the cited sentence as well. When the passages do not
cover the question well enough, the answer is refused ("资料中未找到…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.chunking import sentence_spans
from qa.extract import asked_unit, fits, question_kind, short_answer, snippet
from qa.lexical import general_frequency, segment, tokenize, word_tag
from qa.normalize import for_search, to_simplified
from qa.retrieval import years_in
from qa.types import Answer, Citation, Hit

NOT_FOUND = "资料中未找到与该问题直接相关的内容。"
SNIPPET_CHARS = 110
RELATIVE_YEARS = {"去年": -1, "今年": 0, "明年": 1}
REASON_ASKED = re.compile(r"为什么|为何|原因|何以|理由")

# Reports mix plans and results: "计划拆迁4000户" next to "累计拆迁4874户". These cues tell which
# one a question wants and which one a sentence states.
PLAN_ASKED = re.compile(r"目标|计划|预期|打算|力争|确保|要求|今后|未来|将要|还要|准备|明年")
DONE_ASKED = re.compile(r"过去|已经|累计|一共|共计|了多少|多了|完成了|实现了|建成了|来")
PLAN_SAID = re.compile(r"目标|计划|预期|力争|确保|建议为|今后|未来|将|明年|争取|到20\d\d年")
DONE_SAID = re.compile(r"同比|比上年|累计|已经|实现了|完成了|五年来|过去|成功|荣获")


# How a sentence's score adds up, besides its own coverage of the question's words (chosen on the dev set).
W = {"section": 0.5, "chars": 0.25, "passage": 0.3, "fit": 0.15, "report": 0.25, "tense": 0.2, "rank": 0.05}


@dataclass
class Candidate:
    hit: Hit
    start: int  # sentence offsets in the passage text
    end: int
    score: float
    coverage: float  # of the question by the sentence and its passage
    own: float  # of the question by the sentence alone
    agree: int = 0  # +1 the sentence states what the question asks (a plan, or a result), -1 the other


def word_weights(question: str, idf, known) -> dict[str, float]:
    """IDF weights of the question's words. A word no passage has gets the largest IDF only when
    it is specific (rare in general Chinese); a common one ("房子", "帮忙") is likely a paraphrase."""
    weights = {}
    for w in dict.fromkeys(tokenize(question)):
        weights[w] = idf(w)
        if not known(w):
            weights[w] *= 1.0 if _specific(w) else 0.35 if general_frequency(w) < 10000 else 0.1
    return weights


def _specific(word: str) -> bool:
    """A rare word of general Chinese: missing from the corpus, it weighs fully."""
    return bool(re.search(r"[0-9a-z]", word)) or 0 < general_frequency(word) < 1000


def _named(word: str) -> bool:
    """A number, a Latin term or a place/person/organisation name: its absence is decisive."""
    return bool(re.search(r"[0-9a-z]", word)) or word_tag(word) in ("ns", "nr", "nt", "nz")


def missing_specific(weights: dict[str, float], known, context: str) -> list[str]:
    """Specific question words that no passage of the corpus has and the evidence lacks."""
    out = []
    for w in weights:
        if w in context or known(w) or not _named(w):
            continue
        if len(w) >= 3 and all(w[i:i + 2] in context for i in range(len(w) - 1)):
            continue  # a compound whose parts are all there ("回顾过去")
        if len(w) >= 3 and (w[1:] in context or w[:-1] in context):
            continue  # one character off: a variant or typo ("城管局" in a text that has "域管局")
        out.append(w)
    return out


def answer(question: str, hits: list[Hit], idf, min_support: float = 0.5, documents=None,
           known=lambda w: True, head=None) -> Answer:
    """Choose the best sentence of `hits`, or refuse. `idf(token)` weighs the question's words;
    `known(token)` says whether any passage of the corpus has the token."""
    documents = documents or {}
    weights = word_weights(question, idf, known)
    kind = question_kind(question)
    years = years_in(question)
    facts = report_fact(question, kind, hits, documents, head)
    if facts is not None:
        return facts

    # Words that name the report ("第七次党代会", "政府工作报告", a speaker) say which document should
    # answer, not which sentence: a sentence that merely mentions the meeting is no better for it.
    meta = {h.passage.doc_id: _meta(documents.get(h.passage.doc_id)) for h in hits}
    cites_report = REPORT_ASKED.search(to_simplified(question))
    naming = {t: w for t, w in weights.items() if cites_report and any(t in m for m in meta.values())}
    content = {t: w for t, w in weights.items() if t not in naming} or weights
    total, named_total = sum(content.values()) or 1.0, sum(naming.values()) or 1.0
    plan = _tense(to_simplified(question), PLAN_ASKED, DONE_ASKED)

    candidates = []
    for rank, hit in enumerate(hits):
        text = hit.passage.text
        section = for_search(hit.passage.section)
        passage_cov = _covered(content, f"{section}\n{for_search(text)}") / total
        doc_match = _covered(naming, meta[hit.passage.doc_id]) / named_total if naming else 0.0
        for a, b in sentence_spans(text):
            lead = _lead(text, a)
            said = for_search(lead + text[a:b])
            cov = sum(w if t in said else W["section"] * w if t in section
                      else W["chars"] * w if len(t) > 1 and set(t) <= set(said) else 0  # 停车位 ~ 停车泊位
                      for t, w in content.items()) / total
            agree = plan * _tense(to_simplified(f"{section}{lead}{text[a:b]}"), PLAN_SAID, DONE_SAID)
            score = (cov + W["passage"] * passage_cov + W["fit"] * fits(kind, text[a:b], question)
                     + W["report"] * doc_match + W["tense"] * agree + W["rank"] * (len(hits) - rank) / len(hits))
            candidates.append(Candidate(hit, a, b, score, 0.7 * cov + 0.3 * passage_cov, cov, agree))
    if not candidates:
        return _refusal(question, hits, reason="no passages retrieved")
    asked = {y for y in years if str(y) not in naming}  # "2017年政府工作报告" names a report, not a year asked about
    dated = [c for c in candidates if _year_ok(years, c, documents.get(c.hit.passage.doc_id))
             and not _names_other_year(asked, c, documents.get(c.hit.passage.doc_id))]
    candidates = dated or candidates  # evidence from the year asked about, when there is any
    best = max(candidates, key=lambda c: c.score)
    if kind in ("number", "date", "list"):  # the best sentence that has a number (date, list) in it, if any
        fitting = [c for c in candidates if fits(kind, _sentence(c), question)]
        if fitting and max(c.score for c in fitting) >= 0.75 * best.score:
            best = max(fitting, key=lambda c: c.score)
    doc = documents.get(best.hit.passage.doc_id)
    reason = _why_refuse(question, kind, best, doc, years, asked, plan, weights, known, min_support)
    if reason:
        return _refusal(question, hits, best.coverage, reason)

    sentence = _sentence(best)
    short = short_answer(kind, sentence, content, question)
    if short is None and kind in ("number", "person"):
        return _refusal(question, hits, best.coverage, f"no {kind} that answers the question in the evidence")
    limit = SNIPPET_CHARS
    if kind is None and REASON_ASKED.search(to_simplified(question)):
        sentence, limit = _with_neighbours(best), 2 * SNIPPET_CHARS  # reasons come just before or after a claim
    citation = Citation(1, best.hit, sentence.strip())
    text = snippet(sentence, short, content, limit)
    lead = _lead(best.hit.passage.text, best.start)
    if lead and not text.startswith("…") and len(lead) + len(text) <= limit:  # what the list item is an item of
        gap = best.hit.passage.text.find(lead) + len(lead) < best.start
        text = lead + ("…" if gap else "") + text
    return Answer(question, f"{text}[1]", short, True, [citation], hits, support=best.coverage)


def _why_refuse(question, kind, best: Candidate, doc, years, asked, plan, weights, known, min_support) -> str | None:
    """Why the best sentence does not answer the question, or None when it does."""
    sentence = _sentence(best)
    if best.coverage < min_support or best.own < min_support / 2:
        return f"support {best.coverage:.2f} < {min_support}"
    if kind in ("number", "date") and not fits(kind, sentence, question):
        return f"no {kind} in the best sentence"
    if not _year_ok(years, best, doc) or _names_other_year(asked, best, doc):
        return f"nothing about {'/'.join(map(str, sorted(years)))}"
    if kind == "number" and best.agree < 0:
        return f"the evidence states a {'result' if plan > 0 else 'plan'}, the question asks for the other"
    context = for_search(" ".join(filter(None, (best.hit.passage.section, best.hit.passage.text,
                                                 doc and doc.title, doc and doc.meeting, doc and doc.kind))))
    missing = missing_specific(weights, known, context)
    if missing:
        return f"nothing about {'、'.join(missing)}"
    if kind == "number":
        attr = _asked_attribute(question, known)
        if attr and not set(attr) <= set(for_search(_lead(best.hit.passage.text, best.start) + sentence)):
            return f"the evidence gives no {attr}"
        if asked_unit(question) and fits(kind, sentence, question) < 1:
            return f"no number in {asked_unit(question)}"
    return None


def _with_neighbours(c: Candidate) -> str:
    """The sentence with the one before and the one after it in its passage, verbatim."""
    spans = sentence_spans(c.hit.passage.text)
    i = next(n for n, (a, _) in enumerate(spans) if a == c.start)
    lo, hi = spans[max(i - 1, 0)][0], spans[min(i + 1, len(spans) - 1)][1]
    return c.hit.passage.text[lo:hi]


LINKS = ("是", "为", "达到", "共计")


def _asked_attribute(question: str, known) -> str | None:
    """What a "X是多少" question measures: "一般公共预算支出是多少" → 支出. The evidence must say it."""
    words = [w for w in segment(for_search(question)) if w.strip()]
    if "多少" not in words:
        return None
    at = words.index("多少")
    word = words[at - 2] if at >= 2 and words[at - 1] in LINKS else None
    return word if word and len(word) >= 2 and known(word) else None


def _covered(weights: dict[str, float], text: str) -> float:
    return sum(w for t, w in weights.items() if t in text)


def _meta(doc) -> str:
    """What names a report in a question: its meeting, kind, speaker and date."""
    if doc is None:
        return ""
    date = "".join(f"{int(x)}{unit}" for x, unit in zip((doc.date or "").split("-"), "年月日") if x)
    return for_search(" ".join(filter(None, (doc.meeting, doc.kind, doc.speaker, date))))


def _lead(text: str, start: int) -> str:
    """The lead-in of a list item: "主要预期目标建议为:" before "…;完成固定资产投资370亿元;"."""
    line = text[text.rfind("\n", 0, start) + 1:start]
    colon = max(line.rfind("："), line.rfind(":"))
    if colon < 0:
        return ""
    begin = max(line.rfind(p, 0, colon) for p in "。！？") + 1
    return line[begin:colon + 1]


def _tense(text: str, plan, done) -> int:
    """+1 when text speaks more of plans, -1 more of results, 0 equally or of neither."""
    lean = len(plan.findall(text)) - len(done.findall(text))
    return (lean > 0) - (lean < 0)


def _sentence(c: Candidate) -> str:
    return c.hit.passage.text[c.start:c.end]


def _names_other_year(years: set[int], c: Candidate, doc) -> bool:
    """The sentence speaks of other years only: "2017年计划拆迁4000户", or "明年…" in a 2016 report,
    for a question on 2016."""
    if not years:
        return False
    said = to_simplified(_lead(c.hit.passage.text, c.start) + _sentence(c))
    named = years_in(said)
    if doc is not None and doc.year:
        named |= {doc.year + shift for word, shift in RELATIVE_YEARS.items() if word in said}
    return bool(named and not named & years)


def _year_ok(years: set[int], c: Candidate, doc) -> bool:
    """A question about year Y needs evidence that speaks of Y: a passage naming it, a report of
    year Y, or a report from the end of the year before (which plans the next year)."""
    if not years:
        return True
    text = to_simplified(c.hit.passage.text)
    year = doc.year if doc is not None else None
    year_end = doc is not None and doc.date is not None and len(doc.date) >= 7 and int(doc.date[5:7]) >= 10
    return any(str(y) in text or year == y or (year == y - 1 and (year_end or "明年" in text)) for y in years)


REPORT_ASKED = re.compile(r"报告|讲话|会议|全会|党代会|大会|文章")
DELIVERED = re.compile(r"作|做|召开|开的|举行|讲|发表")


def report_fact(question: str, kind: str | None, hits: list[Hit], documents, head=None) -> Answer | None:
    """Who gave a report, or when: answered from the report's head lines (its date and speaker
    lines), cited like any other sentence. `head(doc_id)` gives a report's first passage."""
    q = to_simplified(question)
    if head is None or kind not in ("date", "person") or not (REPORT_ASKED.search(q) and DELIVERED.search(q)):
        return None
    words, years = set(tokenize(question)), years_in(question)

    def match(d: str) -> int:
        doc = documents[d]
        return sum(w in for_search(f"{doc.title}{doc.meeting}{doc.kind}") for w in words) + 2 * (doc.year in years)

    order = list(dict.fromkeys(h.passage.doc_id for h in hits))
    best = max(map(match, order), default=0)
    for doc_id in [d for d in order if match(d) == best]:  # the reports the question names equally well
        doc = documents[doc_id]
        value = doc.date if kind == "date" else doc.speaker
        passage = head(doc_id)
        if not value or passage is None:
            continue
        for line in passage.text.split("\n")[:12]:
            if kind == "date" and len(value) == 10 and re.fullmatch(r"[（(]?\d{4}年\d{1,2}月\d{1,2}日[)）]?", line):
                short = line.strip("（()）")
            elif kind == "person" and line.replace(" ", "") == value:
                short = line
            else:
                continue
            hit = Hit(passage, 1.0, {})
            parts = [doc.title, doc.meeting and f"在{doc.meeting}上", short]
            text = "，".join(filter(None, parts))
            return Answer(question, f"{text}[1]", short, True, [Citation(1, hit, line)], [hit] + hits, support=1.0)
        if kind == "person":  # no speaker line: a retrieved sentence of the report that names the speaker
            for hit in hits:
                text = hit.passage.text
                spans = [(a, b) for a, b in sentence_spans(text) if hit.passage.doc_id == doc_id and value in text[a:b]]
                if spans:
                    sentence = text[spans[0][0]:spans[0][1]].strip()
                    return Answer(question, f"{snippet(sentence, value, {})}[1]", value, True,
                                  [Citation(1, hit, sentence)], hits, support=1.0)
    return None


def _refusal(question: str, hits: list[Hit], support: float = 0.0, reason: str = "") -> Answer:
    return Answer(question, NOT_FOUND, None, False, [], hits, support=support, refusal=reason)
