"""Stage 9: an extractive answer with citations, chosen by small learned models.

The answer is a sentence of the retrieved passages, copied exactly and marked with the number of
its passage; a short answer span is copied from it. Which sentence, which span and whether to
answer at all are decided by the models of qa/learned.py over the features of qa/features.py and
qa/spans.py, trained on data (scripts/train_answerer.py), not by hand-set weights. Below the
calibrated confidence threshold the answer is refused ("资料中未找到…"), with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa import learned
from qa.chunking import sentence_spans
from qa.extract import asked_unit, question_kind, snippet
from qa.features import (REPORT_ASKED, SENTENCE_FEATURES, Question, asked_places, doc_place, named, passage_coverage,
                         read_question, report_words, sentence_features, asked_tense)
from qa.lexical import question_tokens
from qa.metadata import meeting_names
from qa.normalize import for_matching, for_search, to_simplified
from qa.retrieval import years_in
from qa.spans import ANSWERABLE_FEATURES, KIND_TYPES, SPAN_FEATURES, span_matrix
from qa.types import Answer, Citation, Hit

NOT_FOUND = "资料中未找到与该问题直接相关的内容。"
SNIPPET_CHARS = 110
REASON_ASKED = re.compile(r"为什么|为何|原因|何以|理由")
SENTENCES_PER_HIT = 40  # a passage is ~400 characters; a one-line dump is cut into many more
YEAR_WORD = re.compile(r"(?:19|20)\d\d年?")


@dataclass
class Candidate:
    hit: Hit
    start: int  # sentence offsets in the passage text
    end: int
    lead: str  # the lead-in of a list item the sentence belongs to
    x: list[float]
    missing: list[str]

    @property
    def sentence(self) -> str:
        return self.hit.passage.text[self.start:self.end]


@dataclass
class Analysis:
    """Everything the answerer computed for a question: for answering and for training."""
    q: Question
    candidates: list[Candidate]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    best: int = -1
    short: str | None = None
    span_p: float = 0.0
    z: list[float] = field(default_factory=list)  # ANSWERABLE_FEATURES
    confidence: float = 0.0


def missing_specific(weights: dict[str, float], known, context: str) -> list[str]:
    """Named question words (places, people, numbers) that no passage of the corpus has and the
    evidence lacks: "宁波市" when only 杭州 is reported."""
    out = []
    for w in weights:
        if w in context or known(w) or not named(w) or YEAR_WORD.fullmatch(w):
            continue  # years are weighed by the year features, against the report's date
        if len(w) >= 3 and all(w[i:i + 2] in context for i in range(len(w) - 1)):
            continue  # a compound whose parts are all there ("回顾过去")
        if len(w) >= 3 and (w[1:] in context or w[:-1] in context):
            continue  # one character off: a variant or typo
        out.append(w)
    return out


def analyse(question: str, hits: list[Hit], idf, documents=None, known=lambda w: True,
            models: learned.Models | None = None) -> Analysis:
    """Candidate sentences with features, the best one by the sentence model, its short answer by
    the span model, and the probability that the answer is right."""
    return decide(read_candidates(question, hits, idf, documents, known), models or learned.load())


def read_candidates(question: str, hits: list[Hit], idf, documents=None, known=lambda w: True) -> Analysis:
    """The question read, and every sentence of the hits as a candidate with its features."""
    documents = documents or {}
    metas = {h.passage.doc_id: report_words(documents.get(h.passage.doc_id)) for h in hits}
    q = read_question(question, idf, known, metas)
    top = hits[0].score if hits and hits[0].score > 0 else 1.0
    cands = []
    for rank, hit in enumerate(hits):
        p, doc = hit.passage, documents.get(hit.passage.doc_id)
        section, text = for_matching(p.section), p.text
        passage = for_matching(text)
        where = doc_place(doc)
        context = " ".join((section, passage, metas[p.doc_id], for_search(doc.title) if doc else ""))
        missing = missing_specific(q.weights, known, context)
        covered = passage_coverage(q, section, passage)
        for n, (a, b) in enumerate(sentence_spans(text)[:SENTENCES_PER_HIT]):
            lead = _lead(text, a)
            x = sentence_features(q, text[a:b], lead, section, passage, rank, hit.score / top, doc, where,
                                  n == 0, len(missing), doc_words=metas[p.doc_id], cov_passage=covered)
            cands.append(Candidate(hit, a, b, lead, x, missing))
    return Analysis(q, cands)


FIT = SENTENCE_FEATURES.index("fit")
SPAN_PERSON = ANSWERABLE_FEATURES.index("span_is_person")
TYPE_MATCH, CLASH = SPAN_FEATURES.index("type_match"), SPAN_FEATURES.index("unit_clash")
IS_NUMBER = SPAN_FEATURES.index("is_number")
FITTED = ("number", "date", "list", "direction")  # the kinds qa.extract.fits knows


def decide(a: Analysis, models: learned.Models, span_model: bool = True) -> Analysis:
    """Score the candidates of `a` with `models`: the best sentence, its span, the confidence."""
    if not a.candidates:
        return a
    q, cands = a.q, a.candidates
    a.scores = models.sentence.score(np.array([c.x for c in cands]))
    order = np.argsort(-a.scores, kind="stable")
    a.best = int(order[0])
    e = np.exp(a.scores - a.scores.max())
    p_best = float(e[a.best] / e.sum())
    margin = float(a.scores[order[0]] - a.scores[order[1]]) if len(order) > 1 else 5.0
    best = cands[a.best]
    a.short, a.span_p, span_x = choose_span(q, best.sentence, models) if span_model else (None, 0.0, None)
    span_x = np.zeros(len(SPAN_FEATURES)) if span_x is None else span_x
    unfit = q.kind in FITTED and best.x[FIT] == 0  # the sentence holds no number (date, list, way) asked for
    span_off = q.kind in KIND_TYPES and not span_x[TYPE_MATCH]  # the short answer is not of the kind asked
    # the short answer is in a unit that cannot be the one asked, and no number of the sentence is in it
    unit_unsaid = bool(span_x[CLASH]) and best.x[FIT] < 1
    a.z = [p_best, float(a.scores[a.best]), margin, a.span_p, float(a.short is not None), float(q.kind is None),
           float(np.log1p(len(q.weights))), float(unfit), float(span_off), float(span_off and q.kind == "number"),
           float(span_off and q.kind == "date"), float(unit_unsaid), *best.x, *span_x]
    a.confidence = float(models.confidence(np.array([a.z]))[0])
    if any(a.z[ANSWERABLE_FEATURES.index(v)] > 0 for v in models.vetoes):
        a.confidence = 0.0
    return a


def choose_span(q: Question, sentence: str, models: learned.Models) -> tuple[str | None, float, np.ndarray | None]:
    """The short answer in `sentence`, the span model's probability for it and its features."""
    spans, X = span_matrix(q, sentence)
    if not spans:
        return None, 0.0, None
    scores = models.span.score(X)
    if models.span_vetoes:  # a level for a change asked (or the reverse) while the sentence gives the other
        number = X[:, IS_NUMBER] > 0
        vetoed = number & (X[:, [SPAN_FEATURES.index(v) for v in models.span_vetoes]] > 0).any(axis=1)
        if (number & ~vetoed).any():
            scores = np.where(vetoed, -np.inf, scores)
    e = np.exp(scores - scores.max())
    i = int(np.argmax(scores))
    return spans[i].text.strip(), float(e[i] / e.sum()), X[i]


def answer(question: str, hits: list[Hit], idf, min_confidence: float | None = None, documents=None,
           known=lambda w: True, head=None, models: learned.Models | None = None) -> Answer:
    """Answer from `hits`, or refuse. `idf(token)` weighs the question's words; `known(token)` says
    whether any passage of the corpus has the token; `head(doc_id)` gives a report's first passage
    (for who gave a report, and when). `min_confidence` overrides the model's threshold."""
    documents = documents or {}
    facts = report_fact(question, hits, documents, head)
    if facts is not None:
        return facts
    models = models or learned.load()
    threshold = models.threshold if min_confidence is None else min_confidence
    a = analyse(question, hits, idf, documents, known, models)
    if not a.candidates:
        return _refusal(question, hits, 0.0, "no passages retrieved")
    best = a.candidates[a.best]
    if a.q.kind == "person" and delivery_asked(question) and not a.z[SPAN_PERSON]:
        # who gave a report no head names: only a name the sentence gives can answer ("力争" did)
        return _refusal(question, hits, 0.0, "no speaker named for the report asked about")
    if a.q.kind == "person" and a.short and DEPUTY.search(to_simplified(question)) and _speaker_of(a.short, best, documents):
        # "河南省副省长是谁？": the head's 省长王凯 gave the report; no deputy is named there
        return _refusal(question, hits, 0.0, "the name found is the speaker's, not a deputy's")
    if a.q.kind == "person" and not office_said(question, for_matching(best.lead + best.sentence)):
        # "河南省委书记是谁？" answered 习近平 from "…习近平总书记…": the sentence names no 省委书记
        return _refusal(question, hits, 0.0, "the office asked is not named in the passage found")
    if a.confidence < threshold:
        refused = _refusal(question, hits, a.confidence, _why(a, best, documents))
        if not best.missing:  # a sentence about something else entirely is no "closest" answer
            refused.closest = Citation(1, best.hit, best.sentence.strip())
        return refused
    # a span is the short answer when the question asks for a kind of thing, or the span model is sure
    # enough (how sure: chosen on training questions, where it gave the best F1)
    short = a.short if a.q.kind or a.span_p >= models.short_threshold else None
    sentence, weights = best.sentence, a.q.weights
    limit = SNIPPET_CHARS
    if a.q.kind is None and REASON_ASKED.search(to_simplified(question)):
        sentence, limit = _with_neighbours(best), 2 * SNIPPET_CHARS  # reasons come just before or after a claim
    text = snippet(sentence, short, weights, limit)
    if best.lead and not text.startswith("…") and len(best.lead) + len(text) <= limit:  # what the item is an item of
        gap = best.hit.passage.text.find(best.lead) + len(best.lead) < best.start
        text = best.lead + ("…" if gap else "") + text
    citation = Citation(1, best.hit, sentence.strip())
    return Answer(question, f"{text}[1]", short, True, [citation], hits, support=a.confidence,
                  confidence=a.confidence)


def _why(a: Analysis, best: Candidate, documents) -> str:
    """A short reason for a refusal, from what weighed most against the best sentence."""
    f = dict(zip(SENTENCE_FEATURES, best.x))
    if best.missing:
        return f"nothing about {'、'.join(best.missing)}"
    if f["year_other"] or f["year_doc_other"]:
        return f"nothing about {'/'.join(map(str, sorted(a.q.years)))}"
    if f["place_other"] and not f["place_said"]:
        return f"the reports found are about another place than {'、'.join(a.q.places)}"
    if f["change_unsaid"]:
        return "the sentence found gives an amount, not the change asked"
    z = dict(zip(ANSWERABLE_FEATURES, a.z))
    if z.get("span_unit_clash") and a.short:
        return f"the number found ({a.short}) is not in the unit asked ({asked_unit(a.q.text)})"
    if z.get("number_off") or z.get("date_off"):
        return f"the sentence found holds no {'number' if z.get('number_off') else 'date'} that answers it"
    if f["tense"] < 0 or f["section_tense"] < 0:  # the sentence, or its half of the report, says the other
        doc = documents.get(best.hit.passage.doc_id)
        asked = asked_tense(a.q, doc.plan_year if doc is not None else None)
        return ("the sentence found gives a target, not the result asked" if asked < 0 else
                "the sentence found gives a result, not the target asked")
    return f"confidence {a.confidence:.2f} below the threshold"


def _with_neighbours(c: Candidate) -> str:
    """The sentence with the one before and the one after it in its passage, verbatim."""
    spans = sentence_spans(c.hit.passage.text)
    i = next(n for n, (a, _) in enumerate(spans) if a == c.start)
    lo, hi = spans[max(i - 1, 0)][0], spans[min(i + 1, len(spans) - 1)][1]
    return c.hit.passage.text[lo:hi]


def _lead(text: str, start: int) -> str:
    """The lead-in of a list item: "主要预期目标建议为:" before "…;完成固定资产投资370亿元;"."""
    line = text[text.rfind("\n", 0, start) + 1:start]
    colon = max(line.rfind("："), line.rfind(":"))
    if colon < 0:
        return ""
    begin = max(line.rfind(p, 0, colon) for p in "。！？") + 1
    return line[begin:colon + 1]


DELIVERED = re.compile(r"(?<!工)作|做|召开|开的|举行|讲|发表")  # "工作报告" itself delivers nothing
# a meeting as people name it: 十五大, 十八届三中全会, 十四届全国人大三次会议, 七届人大一次会议
MEETING_SHORT = re.compile(r"[一二三四五六七八九十]{1,3}大(?!会|学|力|型|幅|量|批)|[一二三四五六七八九十]+届[一二三四五六七八九十]+中全会"
                           r"|[一二三四五六七八九十]+届(?:全国)?人大[一二三四五六七八九十]+次会议")
# who holds the office of a report's speaker ("黑龙江省代省长是谁？"): a head line names it ("省长 梁惠玲")
OFFICES = "省长|市长|区长|县长|州长|盟长|旗长|总理|主席"
OFFICE = re.compile(rf"(?<![副助])(?:代理?)?({OFFICES})")
DEPUTY = re.compile(rf"[副助](?:{OFFICES})")
# who holds an office ("河南省委书记是谁？", "厦门大学首任校长是谁？"): the sentence answering names it
TITLES = (f"{OFFICES}|(?:省委|市委|区委|县委|州委|党委|党组|纪委|总)?书记|总统|首相|部长|主任|校长|院长|局长|厅长"
          "|董事长|总经理|会长|委员长|国王|皇帝|总裁|行长|社长|馆长|司令|队长|教练")
OFFICE_ASKED = re.compile(rf"({TITLES})(?:是谁|是哪位|是哪一位|叫什么|为谁|由谁)")
ABOUT_CONTENT = re.compile(r"(?:报告|讲话)(?:中|里|上|说|提出|指出|认为|显示|回顾|提到|强调|确定|设定|要求)")


def _speaker_of(name: str, best: Candidate, documents) -> bool:
    """The name is the speaker of the report the sentence is from."""
    doc = documents.get(best.hit.passage.doc_id)
    return bool(doc and doc.speaker) and to_simplified(name).replace(" ", "") == doc.speaker.replace(" ", "")


def office_said(question: str, said: str) -> bool:
    """A question asking who holds an office finds it named in `said` (folded): 省委书记 whole, and a
    书记 not as part of 总书记 unless that is asked. Any other question: True."""
    m = OFFICE_ASKED.search(to_simplified(question))
    if not m:
        return True
    office = m.group(1)
    starts = [found.start() for found in re.finditer(office, said)]
    return any(office.startswith("总") or i == 0 or said[i - 1] != "总" for i in starts)


def delivery_asked(question: str) -> bool:
    """The question asks about a report's delivery (谁作的, 什么时候作的), not what the report says
    ("报告说…从哪一年开始")."""
    q = to_simplified(question)
    return bool(REPORT_ASKED.search(q) and DELIVERED.search(q) and not ABOUT_CONTENT.search(q))


def report_fact(question: str, hits: list[Hit], documents, head=None) -> Answer | None:
    """Who gave a report, or when: answered from the report's head lines (its date and speaker
    lines), cited like any other sentence. `head(doc_id)` gives a report's first passage."""
    q, kind = to_simplified(question), question_kind(question)
    office = OFFICE.search(q) if kind == "person" else None
    if head is None or kind not in ("date", "person") or not (delivery_asked(q) or office):
        return None
    words, years = set(question_tokens(question)), years_in(question)
    places = asked_places(words)
    meetings = MEETING_SHORT.findall(for_search(question))

    def match(d: str) -> int:
        doc = documents[d]
        named = for_search(f"{doc.title}{meeting_names(doc.meeting)}{doc.kind}{getattr(doc, 'place', None) or ''}")
        return sum(w in named for w in words) + 2 * (doc.year in years)

    def contradicts(d: str) -> bool:
        """The question names a year, place or meeting that the report, where it is known, is not
        ("2025年安徽省政府工作报告是谁作的？" of a district's 2017 report): another report's fact."""
        doc = documents[d]
        return (bool(years and doc.year and doc.year not in years)
                or bool(places and getattr(doc, "place", None) and not any(p in doc_place(doc) for p in places))
                or bool(meetings and doc.meeting and not any(m in report_words(doc) for m in meetings)))

    if hits and documents and all(contradicts(d) for d in documents):
        # who gave a report, or when, is said by that report alone: none indexed is the one asked
        return _refusal(question, hits, 0.0, "no report indexed is the one asked about")
    order = [d for d in dict.fromkeys(h.passage.doc_id for h in hits) if not contradicts(d)]
    best = max(map(match, order), default=0)
    for doc_id in [d for d in order if match(d) == best]:  # the reports the question names equally well
        doc = documents[doc_id]
        value = doc.date if kind == "date" else doc.speaker
        passage = head(doc_id)
        if not value or passage is None:
            continue
        said = _written(kind, value)  # the value as read from the head: simplified ("胡衡华" of "胡衡華")
        for line in passage.text.split("\n")[:12]:
            folded = to_simplified(line)
            m = said.search(folded) if said else None
            if not m or (office and office.group(1) not in folded[:m.start()]):  # the office asked, before the name
                continue
            short = line[m.start():m.end()] if len(folded) == len(line) else m.group()  # as the report writes it
            hit = Hit(passage, 1.0, {})
            meeting = doc.meeting and _as_written(doc.meeting, passage.text)
            held = office and _as_written(office.group(1), line)  # 市長 in a traditional head
            parts = [doc.title, meeting and f"在{meeting}上", f"{held}{short}" if office else short]
            text = "，".join(filter(None, parts))
            return Answer(question, f"{text}[1]", short, True, [Citation(1, hit, line)], [hit] + hits, support=1.0, confidence=1.0)
        if kind == "person" and not office:  # no speaker line: a retrieved sentence of the report that names the speaker
            for hit in hits:
                text = hit.passage.text
                spans = [(a, b) for a, b in sentence_spans(text)
                         if hit.passage.doc_id == doc_id and value in to_simplified(text[a:b])]
                if spans:
                    sentence = text[spans[0][0]:spans[0][1]].strip()
                    return Answer(question, f"{snippet(sentence, value, {})}[1]", value, True,
                                  [Citation(1, hit, sentence)], hits, support=1.0, confidence=1.0)
    return None


def _as_written(value: str, text: str) -> str:
    """A value read simplified (a report's meeting) as the report writes it, when its text has it."""
    folded = to_simplified(text)
    at = folded.find(value)
    return text[at:at + len(value)] if at >= 0 and len(folded) == len(text) else value


def _written(kind: str, value: str) -> re.Pattern | None:
    """How a report head writes its speaker ("章 燕") or its date ("2017年1月5日", "2017年1月")."""
    if kind == "person":
        return re.compile(r"[ \u3000]?".join(map(re.escape, value.replace(" ", ""))))
    parts = [int(x) for x in value.split("-") if x.isdigit()]
    if len(parts) < 2:
        return None  # a year alone does not say when
    return re.compile("".join(rf"0?{x}{unit}" for x, unit in zip(parts, "年月日")))


def _refusal(question: str, hits: list[Hit], confidence: float = 0.0, reason: str = "") -> Answer:
    return Answer(question, NOT_FOUND, None, False, [], hits, support=confidence, refusal=reason, confidence=confidence)
