"""What the answerer knows about a question and each candidate sentence, as numbers.

`Question` holds what is read once from the question (its weighted words, the kind of answer it
asks for, years, places, plan or result). `sentence_features` turns one candidate sentence into a
named feature vector; the learned model (qa/learned.py, trained by scripts/train_answerer.py)
weighs them. No feature is a veto: a sentence about another year or place only scores lower, by
as much as the training data says.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from qa.extract import UNIT, asked_unit, fits, question_kind
from qa.lexical import general_frequency, question_tokens, tokenize, word_tag
from qa.metadata import meeting_names
from qa.normalize import for_matching, for_search, spell_out, to_simplified
from qa.places import names_a_place
from qa.retrieval import years_in

RELATIVE_YEARS = {"去年": -1, "今年": 0, "明年": 1}
PLAN_ASKED = re.compile(r"目标|计划|预期|打算|力争|确保|要求|今后|未来|将要|还要|准备|明年|(?<![主需重只想])要(?!求)")
DONE_ASKED = re.compile(r"过去|已经|累计|一共|共计|了多少|多了|完成了|实现了|建成了|来|去年|上年")
PLAN_SAID = re.compile(r"目标|计划|预期|力争|确保|建议为|今后|未来|将|明年|争取|到20\d\d年|左右|控制在")
DONE_SAID = re.compile(r"同比|比上年|累计|已经|实现了|完成了|五年来|过去|成功|荣获|回顾")
# a question asks how much something changed ("增长了多少", "增速"), not what it reached ("提高到多少"),
# in the clause of its question word ("…外资下降，那实际使用外资降到了多少？" asks a level); a sentence
# that says no change ("产量突破70万辆") gives a level, not the change asked, and a number right after a
# change word ("增长47.4%") is a change, not the level a question may ask ("集成电路产量达到多少万块？")
CHANGE_VERBS, CHANGE_RATES = "增长|增加|下降|减少|降低|提高|提升|上升|递增|递减|涨|降", "增速|增幅|涨幅|降幅"
CHANGE_ASKED = re.compile(rf"(?:{CHANGE_VERBS})(?![到至])|{CHANGE_RATES}|增量|变化|翻了?几番")
CHANGE_SAID = re.compile(r"增|降|减|提高|提升|上升|涨|回落|翻|扩大|缩小|收窄|倍")
# spaces allowed between the words and before the number: text from PDFs and web pages has "同比增长 8%"
CHANGE_BEFORE = re.compile(rf"(?:(?:{CHANGE_VERBS}|增|下滑|回落)了?|(?:{CHANGE_RATES}|增长率)\s*(?:为|达到?|是)?)\s*(?:(?:约|近|超过?|达)\s*)?$")
CLAUSE_BREAK = re.compile(r"[，,；;：:。！!]")
REPORT_ASKED = re.compile(r"报告|讲话|会议|全会|党代会|大会|文章")
# the year that names a report ("2025年福建省政府工作报告中，…") asks neither its plan nor its review
REPORT_YEAR = re.compile(r"\d{4}年[^，,。？?；;：:]{0,24}?(?:报告|讲话|会议|全会|党代会|大会)")
WH = re.compile(r"多少|多[长久大高远重]|几[个所条项件名户人家次年倍]?|什么|哪[些个里儿位年天]?|谁|何[时地]?|怎么|怎样|如何|为什么|为何")
STOP_CHARS = set("的了和与及或是在有为以对把将被从向于也都而并等中上下里其之这那个吗呢吧啊么哪谁几多少什么请问？?，,。！!")
PLACE_SUFFIX = re.compile(r"(?:省|市|区|县|自治区|特别行政区|维吾尔|壮族|回族)$")

SENTENCE_FEATURES = (
    "cov", "cov_own", "cov_section", "cov_passage", "cov_partial", "char_cov", "bigram", "lcs",
    "wh_context", "rank", "rel_score", "fit", "unit_ok", "has_number",
    "year_said", "year_other", "year_doc", "year_doc_next", "year_doc_other", "year_unknown",
    "place_doc", "place_other", "place_said", "tense", "section_year", "section_tense", "report_match", "missing",
    "log_len", "first", "change_unsaid", "focus_left", "focus_right",
)


@dataclass
class Question:
    text: str
    folded: str
    weights: dict[str, float]  # content word → IDF weight
    naming: dict[str, float]  # words that name a report (its meeting, kind, speaker), not content
    kind: str | None
    years: set[int]
    places: list[str]  # place names the question gives, without 省/市/区 ("广东")
    plan: int  # +1 asks for a plan or target, -1 for a result, 0 either
    chars: set[str] = field(default_factory=set)
    bigrams: set[str] = field(default_factory=set)
    wh_context: list[str] = field(default_factory=list)  # content words next to the question word
    anchors: tuple[str, str] = ("", "")  # the two characters just before and just after the question word
    change: bool = False  # it asks how much something changed (CHANGE_ASKED)
    focus: tuple[str, str] = ("", "")  # up to 8 characters of its clause just before and just after the question word
    tense_years: set[int] = field(default_factory=set)  # the years it asks about, not those naming a report


def word_weights(question: str, idf, known) -> dict[str, float]:
    """IDF weights of the question's words. A word no passage has weighs fully only when it is
    specific (rare in general Chinese); a common one ("房子", "帮忙") is likely a paraphrase."""
    weights = {}
    for w in dict.fromkeys(question_tokens(question)):
        weights[w] = idf(w)
        if not known(w):
            weights[w] *= 1.0 if _specific(w) else 0.35 if general_frequency(w) < 10000 else 0.1
    return weights


def _specific(word: str) -> bool:
    return bool(re.search(r"[0-9a-z]", word)) or 0 < general_frequency(word) < 1000


def named(word: str) -> bool:
    """A number, a Latin term or a place/person/organisation name."""
    return bool(re.search(r"[0-9a-z]", word)) or word_tag(word) in ("ns", "nr", "nt", "nz")


def read_question(question: str, idf, known, doc_meta: dict[str, str]) -> Question:
    """`doc_meta`: doc_id → the folded words that name each retrieved report (see `report_words`).
    Read with its abbreviations spelled out (CPI → 居民消费价格), as reports write them."""
    question = spell_out(question)
    folded = for_matching(question)
    weights = word_weights(question, idf, known)
    cites_report = REPORT_ASKED.search(folded)
    naming = {t: w for t, w in weights.items() if cites_report and any(t in m for m in doc_meta.values())}
    content = {t: w for t, w in weights.items() if t not in naming} or weights
    plain = [c for c in folded if c not in STOP_CHARS and not c.isspace()]
    m = question_word(WH, folded)
    around = tokenize(folded[max(0, m.start() - 8):m.start()] + " " + folded[m.end():m.end() + 6]) if m else []
    anchors = ("", "")
    if m:  # "法国的首都是哪里" → 首都 … ; "哪一年成立" → … 成立: the answer sits between them in a sentence
        left = re.sub(r"[是为的了在有于要将\W]+$", "", folded[:m.start()])[-2:]
        right = re.sub(r"^[\d一个些年位种的是了\W]+", "", folded[m.end():])[:2]
        anchors = (left if len(left) == 2 else "", right if len(right) == 2 else "")
    return Question(question, folded, content, naming, question_kind(question), years_in(folded),
                    asked_places(weights), _tense(folded, PLAN_ASKED, DONE_ASKED),
                    set(plain), {a + b for a, b in zip(plain, plain[1:])}, [w for w in around if w in content],
                    anchors, bool(CHANGE_ASKED.search(_asking_clause(folded, m))), _focus(folded, m),
                    years_in(REPORT_YEAR.sub("", folded)))


def asked_places(words) -> list[str]:
    """The places among a question's words, without 省/市/区 ("广东省" → "广东"), two characters or more."""
    return list(dict.fromkeys(p for w in words if names_a_place(w) and len(p := PLACE_SUFFIX.sub("", w)) >= 2))


def _focus(folded: str, m: re.Match | None) -> tuple[str, str]:
    """What the question asks about, as written around its question word within its clause: up to 8
    characters before it ("海洋生产总值" of "…海洋生产总值是多少亿元") and after it, without the
    particles, measure words and units next to it ("养老机构护理型床" of "多少张养老机构护理型床位")."""
    if not m:
        return "", ""
    before = re.split(r"\d+年", CLAUSE_BREAK.split(folded[:m.start()])[-1])[-1]  # after its year, if any
    after = CLAUSE_BREAK.split(folded[m.end():])[0]
    left = re.sub(r"[是为的了在有于要将达到\s?？]+$", "", before)[-8:]
    right = re.sub(rf"^(?:[\d一两个些年位种的是了\s]|[万亿]*{UNIT})+", "", after)
    return left, re.sub(r"[的了呢吗\s?？]+$", "", right)[:8]


def _asking_clause(folded: str, m: re.Match | None) -> str:
    """The clause of the question that holds its question word (all of it when there is none)."""
    if not m:
        return folded
    starts = [b.end() for b in CLAUSE_BREAK.finditer(folded, 0, m.start())]
    return folded[starts[-1] if starts else 0:]


def question_word(pattern: re.Pattern, folded: str) -> re.Match | None:
    """The first match of `pattern` that starts a word of the question as jieba cuts it: 哪 in
    "哪一年", 什么 in "被称为什么" (not 为什么), nothing in "新几内亚" or "许多"."""
    starts = _word_starts(folded)
    m = pattern.search(folded)
    while m and m.start() not in starts:
        m = pattern.search(folded, m.start() + 1)
    return m


@lru_cache(maxsize=4096)
def _word_starts(folded: str) -> frozenset[int]:
    from qa.lexical import _jieba

    starts, pos = set(), 0
    for w in _jieba().lcut(folded):
        starts.add(pos)
        pos += len(w)
    return frozenset(starts)


def report_words(doc) -> str:
    """What names a report in a question: its meeting, kind, speaker, place and date."""
    if doc is None:
        return ""
    date = "".join(f"{int(x)}{unit}" for x, unit in zip((doc.date or "").split("-"), "年月日") if x.isdigit())
    return for_search(" ".join(filter(None, (meeting_names(doc.meeting), doc.kind, doc.speaker, getattr(doc, "place", None), date))))


def doc_place(doc) -> str:
    """Folded text that says where a report is from (its place, title, meeting, speaker line)."""
    if doc is None:
        return ""
    return for_search(" ".join(filter(None, (getattr(doc, "place", None), doc.title, meeting_names(doc.meeting), doc.speaker))))


def sentence_features(q: Question, sentence: str, lead: str, section: str, passage: str, rank: int,
                      rel_score: float, doc, doc_where: str, first: bool, missing: int, *,
                      doc_words: str | None = None, cov_passage: float | None = None) -> list[float]:
    """The SENTENCE_FEATURES of one candidate, in order. `passage`, `section`, `doc_where` folded.
    What is the same for every sentence of a passage may be given, computed once: `doc_words`
    (report_words(doc)) and `cov_passage` (passage_coverage(q, section, passage))."""
    said = for_matching(lead + sentence)
    chars = set(said)
    total = sum(q.weights.values()) or 1.0
    cov = cov_section = cov_partial = 0.0
    for t, w in q.weights.items():
        if t in said:
            cov += w
        elif t in section:
            cov_section += w
        elif len(t) > 1 and set(t) <= chars:
            cov_partial += w
    alone = for_matching(sentence) if lead else said
    own = sum(w for t, w in q.weights.items() if t in alone)
    cov_passage = passage_coverage(q, section, passage) if cov_passage is None else cov_passage
    char_cov = len(q.chars & chars) / (len(q.chars) or 1)
    bigram = sum(b in said for b in q.bigrams) / (len(q.bigrams) or 1)
    wh = sum(t in said for t in q.wh_context) / len(q.wh_context) if q.wh_context else 0.0
    ys = q.years
    named_years = years_in(said) if ys else set()  # the years a sentence names matter to a question naming one
    doc_year = doc.year if doc is not None else None
    if doc_year and ys:
        named_years |= {doc_year + shift for word, shift in RELATIVE_YEARS.items() if word in said}
    doc_year = doc.plan_year if doc is not None else None  # the year it plans; it reviews the one before
    place_doc = place_other = place_said = 0.0
    if q.places:
        place_said = float(any(p in said for p in q.places))
        place_doc = float(any(p in doc_where for p in q.places))
        # another place only when the report's place is known (an unknown place is no mismatch) and
        # the sentence does not name the place asked itself (a provincial report on 合肥's figures)
        place_other = float(not place_doc and not place_said and bool(getattr(doc, "place", None)))
    asked = asked_tense(q, doc_year)
    half = section_year(section, doc_year)
    return [
        cov / total, own / total, cov_section / total, cov_passage / total, cov_partial / total,
        char_cov, bigram, _lcs(q.folded, said) / max(4, len(q.chars)), wh,
        1.0 / (1 + rank), rel_score, fits(q.kind, sentence, q.text), _unit_ok(q, sentence),
        float(bool(re.search(r"\d|[一二两三四五六七八九十百千万亿]+[个名人户家项条]", sentence))),
        float(bool(ys and named_years & ys)), float(bool(ys and named_years and not named_years & ys)),
        float(bool(ys and doc_year in ys)), float(bool(ys and doc_year and doc_year - 1 in ys)),
        # another year than the report's, and the sentence does not name it either (a 1982 report's
        # target for 二○○○年 is about 2000)
        float(bool(ys and doc_year and doc_year not in ys and doc_year - 1 not in ys and not named_years & ys)),
        float(bool(ys and not doc_year)),
        place_doc, place_other, place_said,
        asked * _tense(to_simplified(section + lead + sentence), PLAN_SAID, DONE_SAID) if asked else 0,
        half, asked * half,
        float(bool(q.naming)) * _covered(q.naming, report_words(doc) if doc_words is None else doc_words)
        / (sum(q.naming.values()) or 1.0),
        float(missing), math.log(1 + len(sentence)) / 5, float(first),
        float(q.change and not _change_said(q, said)),
        _focus_missed(q.focus[0], said, suffix=True), _focus_missed(q.focus[1], said, suffix=False),
    ]


def _focus_missed(focus: str, said: str, suffix: bool) -> float:
    """The share of the question's focus that the sentence misses: of "海洋生产总值", "地区生产总值…"
    holds the end "生产总值" and misses 2 of 6 (the longest end, or start after the question word, held)."""
    n = len(focus)
    held = next((k for k in range(n, 0, -1) if (focus[-k:] if suffix else focus[:k]) in said), 0)
    return (n - held) / n if n else 0.0


def _change_said(q: Question, said: str) -> bool:
    """Whether a clause of the sentence that holds one of the question's words (of two characters or
    more) says a change: "保有量超100万辆，…治理提升" says none of 保有量; with no such clause, the whole."""
    clauses = [c for c in CLAUSE_BREAK.split(said) if any(len(t) > 1 and t in c for t in q.weights)]
    return any(CHANGE_SAID.search(c) for c in clauses or [said])


def passage_coverage(q: Question, section: str, passage: str) -> float:
    """The weight of the question's words that a passage (or its section heading) holds."""
    return sum(w for t, w in q.weights.items() if t in passage or t in section)


def _unit_ok(q: Question, sentence: str) -> float:
    if q.kind != "number" or not asked_unit(q.text):
        return 0.0
    return float(fits("number", sentence, q.text) >= 1)


def _covered(weights: dict[str, float], text: str) -> float:
    return sum(w for t, w in weights.items() if t in text)


def section_year(section: str, plan_year: int | None) -> float:
    """+1 when the sentence's section is headed by the year its report plans ("2025年目标任务"), -1
    by the year it reviews ("2024年工作回顾"), else 0: a work report's two halves, by their headings."""
    if not plan_year or not section:
        return 0.0
    years = years_in(section)
    return 1.0 if plan_year in years else -1.0 if plan_year - 1 in years else 0.0


def asked_tense(q: Question, plan_year: int | None) -> int:
    """+1 when the question asks a report that plans `plan_year` for a plan, -1 for a result, 0
    either: by its words, else by its year (see year_tense)."""
    return q.plan or year_tense(q.tense_years, plan_year)


def year_tense(years: set[int], plan_year: int | None) -> int:
    """What a question's year asks of a report that plans `plan_year`: +1 a plan (it names the year
    planned), -1 a result (the year before, which the report reviews), 0 neither, both or unknown."""
    if not years or not plan_year:
        return 0
    plan, done = plan_year in years, plan_year - 1 in years
    return int(plan) - int(done) if plan != done else 0


def _tense(text: str, plan, done) -> int:
    """+1 when text speaks more of plans, -1 more of results, 0 equally or of neither."""
    lean = len(plan.findall(text)) - len(done.findall(text))
    return (lean > 0) - (lean < 0)


def _lcs(a: str, b: str) -> int:
    """Length of the longest common substring of a and b (a short, b a sentence)."""
    best = 0
    for i in range(len(a)):
        lo, hi = best + 1, len(a) - i
        while lo <= hi and a[i:i + lo] in b:  # grow while the substring starting at i is in b
            best, lo = lo, lo + 1
    return best
