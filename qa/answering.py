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
from qa.lexical import general_frequency, tokenize, word_tag
from qa.normalize import for_search, to_simplified
from qa.retrieval import years_in
from qa.types import Answer, Citation, Hit

NOT_FOUND = "资料中未找到与该问题直接相关的内容。"
MAX_ANSWER_CHARS = 110

UNIT = (r"(?:万亿元|亿元|万元|元|万平方米|平方米|平方公里|公里|千米|米|万余名|万余|万人|万户|万|亿|"
        r"%|％|‰|户|人|名|个|家|所|条|项|件|起|次|倍|座|栋|幢|张|台|辆|套|吨|亩|公顷|天|小时|年|期|批|处|"
        r"戶|個|條|項|間|萬)")
NUMBER = re.compile(rf"\d+(?:[.,]\d+)*(?:\s*(?:多|余|以上))?\s*{UNIT}?(?:以上|左右|多|余)?")
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日|\d{1,2}月(?:底|初|中旬|上旬|下旬)前?|\d{4}年(?:底|初|前|内)?")
ASKS = {  # question words → what kind of short answer is wanted
    "date": re.compile(r"什么时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|日期|时间"),
    "number": re.compile(r"多少|几[个所条项件名户人家次年倍]|多大|多高|多长|比例|比重|百分之|增长了?几"),
    "person": re.compile(r"谁|哪位|什么人|姓名|名字"),
    "place": re.compile(r"哪里|哪儿|在哪|什么地方|哪个地方|地点|哪个区|哪个街道|何地"),
    "list": re.compile(r"哪些|哪几|有几|哪两|哪三|哪四|哪五|哪六|哪七|哪八|哪九|哪十"),
}
CLAUSE = re.compile(r"[^，,：:；;。！？!?]+[，,：:；;。！？!?]*")


@dataclass
class Candidate:
    hit: Hit
    start: int  # sentence offsets in the passage text
    end: int
    score: float
    coverage: float  # of the question by the sentence and its passage
    own: float  # of the question by the sentence alone


def question_kind(question: str) -> str | None:
    q = to_simplified(question)
    for kind, pattern in ASKS.items():
        if pattern.search(q):
            return kind
    return None


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
        out.append(w)
    return out


def answer(question: str, hits: list[Hit], idf, min_support: float = 0.5, documents=None,
           known=lambda w: True, head=None) -> Answer:
    """Choose the best sentence of `hits`, or refuse. `idf(token)` weighs the question's words;
    `known(token)` says whether any passage of the corpus has the token."""
    documents = documents or {}
    weights = word_weights(question, idf, known)
    total = sum(weights.values()) or 1.0
    kind = question_kind(question)
    years = years_in(question)
    facts = report_fact(question, kind, hits, documents, head)
    if facts is not None:
        return facts

    candidates = []
    for rank, hit in enumerate(hits):
        text = hit.passage.text
        context = for_search(f"{hit.passage.section}\n{text}")
        passage_cov = sum(w for t, w in weights.items() if t in context) / total
        for a, b in sentence_spans(text):
            sentence = for_search(text[a:b])
            cov = sum(w for t, w in weights.items() if t in sentence) / total
            fit = _fits(kind, text[a:b])
            score = cov + 0.3 * passage_cov + 0.15 * fit + 0.05 * (len(hits) - rank) / max(len(hits), 1)
            support = 0.7 * cov + 0.3 * passage_cov
            candidates.append(Candidate(hit, a, b, score, support, cov))
    if not candidates:
        return _refusal(question, hits, reason="no passages retrieved")
    dated = [c for c in candidates if _year_ok(years, c, documents.get(c.hit.passage.doc_id))]
    candidates = dated or candidates  # evidence from the year asked about, when there is any
    best = max(candidates, key=lambda c: c.score)
    if kind in ("number", "date"):  # the best sentence that has a number (date) in it, if any
        fitting = [c for c in candidates if _fits(kind, _sentence(c))]
        if fitting and max(c.score for c in fitting) >= 0.75 * best.score:
            best = max(fitting, key=lambda c: c.score)
    doc = documents.get(best.hit.passage.doc_id)
    context = for_search(" ".join(filter(None, (best.hit.passage.section, best.hit.passage.text,
                                                 doc and doc.title, doc and doc.meeting, doc and doc.kind))))
    missing = missing_specific(weights, known, context)
    reason = (f"support {best.coverage:.2f} < {min_support}" if best.coverage < min_support
              or best.own < min_support / 2
              else f"no {kind} in the best sentence" if kind in ("number", "date") and not _fits(kind, _sentence(best))
              else f"nothing about {'/'.join(map(str, sorted(years)))}" if not _year_ok(years, best, doc)
              else f"nothing about {'、'.join(missing)}" if missing else None)
    if reason:
        return _refusal(question, hits, best.coverage, reason)

    sentence = _sentence(best)
    short = short_answer(kind, sentence, weights, question)
    if short is None and kind in ("number", "person"):
        return _refusal(question, hits, best.coverage, f"no {kind} that answers the question in the evidence")
    snippet = _snippet(sentence, short, weights)
    citation = Citation(1, best.hit, sentence.strip())
    return Answer(question, f"{snippet}[1]", short, True, [citation], hits, support=best.coverage)


def _sentence(c: Candidate) -> str:
    return c.hit.passage.text[c.start:c.end]


def _fits(kind: str | None, sentence: str) -> float:
    if kind == "number":
        return float(bool(re.search(r"\d", sentence)))
    if kind == "date":
        return float(bool(DATE.search(sentence)))
    return 0.0


def _year_ok(years: set[int], c: Candidate, doc) -> bool:
    """A question about year Y needs evidence that speaks of Y: a passage naming it, a report of
    year Y, or a report from the end of the year before (which plans the next year)."""
    if not years:
        return True
    text = to_simplified(c.hit.passage.text)
    year = doc.year if doc is not None else None
    year_end = doc is not None and doc.date is not None and len(doc.date) >= 7 and int(doc.date[5:7]) >= 10
    return any(str(y) in text or year == y or (year == y - 1 and (year_end or "明年" in text)) for y in years)


REPORT_ASKED = re.compile(r"报告|讲话|会议|全会|党代会|大会")
DELIVERED = re.compile(r"作|做|召开|开的|举行|讲|发表")


def report_fact(question: str, kind: str | None, hits: list[Hit], documents, head=None) -> Answer | None:
    """Who gave a report, or when: answered from the report's head lines (its date and speaker
    lines), cited like any other sentence. `head(doc_id)` gives a report's first passage."""
    q = to_simplified(question)
    if head is None or kind not in ("date", "person") or not (REPORT_ASKED.search(q) and DELIVERED.search(q)):
        return None
    words, years = set(tokenize(question)), years_in(question)
    order = list(dict.fromkeys(h.passage.doc_id for h in hits))
    ranked = sorted(order, key=lambda d: -(sum(w in for_search(f"{documents[d].title}{documents[d].meeting}")
                                               for w in words) + 2 * (documents[d].year in years)))
    for doc_id in ranked[:1]:
        doc = documents[doc_id]
        value = doc.date if kind == "date" else doc.speaker
        passage = head(doc_id)
        if not value or passage is None:
            continue
        hit = Hit(passage, 1.0, {})
        for line in passage.text.split("\n")[:12]:
            if kind == "date" and len(value) == 10 and re.fullmatch(r"[（(]?\d{4}年\d{1,2}月\d{1,2}日[)）]?", line):
                short = line.strip("（()）")
            elif kind == "person" and line.replace(" ", "") == value:
                short = line
            else:
                continue
            parts = [doc.title, doc.meeting and f"在{doc.meeting}上", short]
            text = "，".join(filter(None, parts))
            return Answer(question, f"{text}[1]", short, True, [Citation(1, hit, line)], [hit] + hits, support=1.0)
    return None


def short_answer(kind: str | None, sentence: str, weights: dict[str, float], question: str) -> str | None:
    """A span of `sentence` answering a number/date/person/place/list question, copied exactly."""
    if kind in ("number", "date"):
        pattern = NUMBER if kind == "number" else DATE
        unit = _asked_unit(question) if kind == "number" else None
        spans = [m for m in pattern.finditer(sentence) if m.group().strip()]
        if kind == "number":  # neither a year nor a number the question itself gives
            asked = set(re.findall(r"\d+(?:\.\d+)?", question))
            spans = [m for m in spans if not re.fullmatch(r"\d{4}年?", m.group().strip())
                     and re.match(r"\d+(?:[.,]\d+)*", m.group()).group() not in asked]
        if not spans:
            return None
        best = max(spans, key=lambda m: _closeness(sentence, m, weights, unit))
        return best.group().strip()
    if kind in ("person", "place"):
        import jieba.posseg as pseg

        flag = "nr" if kind == "person" else "ns"
        asked = set(tokenize(question))
        names = [w.word for w in pseg.lcut(sentence) if w.flag.startswith(flag) and w.word not in asked]
        return names[0] if names else None
    if kind == "list":
        items = re.findall(r"“[^”]{1,20}”(?:[、和及与]“[^”]{1,20}”)+|[\u4e00-\u9fff]{2,10}(?:、[\u4e00-\u9fff]{2,10})+",
                           sentence)
        return max(items, key=len) if items else None
    return None


def _asked_unit(question: str) -> str | None:
    m = re.search(r"(?:多少|几)([\u4e00-\u9fff%])", to_simplified(question))
    return m.group(1) if m else None


def _closeness(sentence: str, m: re.Match, weights: dict[str, float], unit: str | None) -> float:
    """How well a number fits the question: the asked unit, and question words just before it."""
    before = for_search(sentence[max(0, m.start() - 14):m.start()])
    score = sum(w for t, w in weights.items() if t in before)
    if unit and to_simplified(m.group()).rstrip("以上左右多余").endswith(unit):
        score += 10
    elif unit and unit in "元亿万" and unit in to_simplified(m.group()):
        score += 5
    return score - 0.01 * m.start()


def _snippet(sentence: str, short: str | None, weights: dict[str, float]) -> str:
    """The sentence, or for a long one the clauses around the answer, at most ~MAX_ANSWER_CHARS."""
    sentence = sentence.strip().replace("**", "")
    if len(sentence) <= MAX_ANSWER_CHARS:
        return sentence
    clauses = [m.group() for m in CLAUSE.finditer(sentence)]
    if not clauses:
        return sentence[:MAX_ANSWER_CHARS] + "…"
    gain = [sum(w for t, w in weights.items() if t in for_search(c)) for c in clauses]
    core = next((i for i, c in enumerate(clauses) if short and short in c), max(range(len(clauses)), key=gain.__getitem__))
    lo = hi = core
    while True:  # grow towards the side whose clause adds more of the question's words
        options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(clauses)]
        options = [i for i in options if sum(map(len, clauses[min(lo, i):max(hi, i) + 1])) <= MAX_ANSWER_CHARS]
        if not options:
            break
        i = max(options, key=lambda i: (gain[i], -i))
        if gain[i] <= 0 and hi - lo >= 1:
            break
        lo, hi = min(lo, i), max(hi, i)
    text = "".join(clauses[lo:hi + 1]).rstrip("，,：:；;")
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(clauses) - 1 else "")


def _refusal(question: str, hits: list[Hit], support: float = 0.0, reason: str = "") -> Answer:
    return Answer(question, NOT_FOUND, None, False, [], hits, support=support, refusal=reason)
