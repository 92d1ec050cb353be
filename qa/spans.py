"""Short answers: candidate spans of the chosen sentence and what the span model knows of each.

Candidates are numbers with their units, dates, lists, quoted names, jieba's person, place and
organisation names, and runs of one to four words inside a clause. The learned span model
(qa/learned.py) picks one; the span is copied verbatim, so a user finds it in the report.
Also here: the question-level features of the refusal model (`ANSWERABLE_FEATURES`).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from qa.extract import (DATE, DIRECTION, LIST, direction_word, _trim_list, answers_count, asked_unit, numbers,
                        question_kind, unit_clash)
from qa.features import CHANGE_BEFORE, SENTENCE_FEATURES, WH, Question, question_word
from qa.normalize import for_search, for_search_all, to_simplified

TYPES = ("number", "date", "list", "quote", "person", "place", "org", "words", "clause", "direction")
# What the question asks with its question word (one-hot; the trees cross it with the span's form)
WH_TYPES = {
    "who": r"谁|何人|哪位|什么人|哪一?个人",
    "when": r"什么时候|何时|哪一?[年天月]|几月|几号|何年|什么时间|什么年代|哪个时期",
    "where": r"哪里|哪儿|何地|何处|什么地方|哪个地方|在哪",
    "why": r"为什么|为何|原因|何以|理由",
    "how": r"怎么|怎样|如何",
    "count": r"多少|几|多[长久大高远重]",
    "which": r"哪",
    "what": r"什么|何|啥",
}
WH_RE = {k: re.compile(v) for k, v in WH_TYPES.items()}
POS = ("n", "nr", "ns", "nt", "nz", "v", "m", "t", "a", "p", "u", "x", "c", "d", "f", "r", "q")  # jieba tags of a span's words and neighbours
SPAN_FEATURES = (
    *(f"is_{t}" for t in TYPES), "type_match", "unit_ok", "q_overlap", "in_question", "left_ctx",
    "right_ctx", "before_words", "near", "log_len", "n_words", "clause_start", "clause_end",
    "noun_end", "verb_start", "has_digit", "position", "left_gap", "right_gap", "holds_anchor",
    *(f"wh_{w}" for w in WH_TYPES), *(f"first_{t}" for t in POS), *(f"last_{t}" for t in POS),
    *(f"prev_{t}" for t in POS), *(f"next_{t}" for t in POS),
    "head_in", "head_after", "left_near", "right_near", "clause_cov", "left_order", "right_order", "head_char",
    "align_left", "align_right", "align_left0", "align_right0", "name_part", "asked_match",
    "level_as_change", "change_as_level", "unit_clash", "grain_match",
    "list_first_off", "list_last_off", "extra_left", "extra_right",
    "period_unasked", "period_unsaid",
)
# The refusal model sees how sure the sentence and span models are, and every feature of the
# chosen sentence and of its chosen span: which of them say "this does not answer" is for the
# data to tell.
ANSWERABLE_FEATURES = (
    "p_best", "s_best", "margin", "span_p", "has_span", "kind_none", "n_words", "unfit", "span_off",
    "number_off", "date_off", "unit_unsaid",
    *(f"best_{f}" for f in SENTENCE_FEATURES), *(f"span_{f}" for f in SPAN_FEATURES),
)
PUNCT = set("，,。：:；;！？!?、（）()“”《》「」")
KIND_TYPES = {"number": {"number"}, "date": {"date"}, "list": {"list"}, "person": {"person"}, "direction": {"direction"},
              "place": {"place", "org"}}
ENTITY = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "org", "nz": "org"}
QUOTED = re.compile(r"“([^”]{1,24})”|《([^》]{1,30})》|「([^」]{1,24})」")
ORDINAL = re.compile(r"第(?:\d+|[一二三四五六七八九十百]+)[位名个個次届屆任期轮輪批号號]?")
MAX_WORDS, MAX_CHARS = 6, 24
DOTS = ("·", "•", "．", "‧", ".")  # between the parts of a foreign name
MAX_CLAUSE = 40
CLAUSE_ENDS = "，,。：:；;！？!?"
CLAUSE = re.compile(f"[^{CLAUSE_ENDS}]+")
DIGIT = re.compile(r"\d")
# a span of time a figure covers: 五年, 10年来, 累计, 年均, 上半年, 一季度, 前三季度, 全年 (not a year: 2024年)
PERIOD = re.compile(r"(?<![\d〇○零一二三四五六七八九十])(?:[一二三四五六七八九十两]|\d{1,2})年(?:来|间|内)?|累计|年均|[上下]半年|"
                    r"第?[一二三四1-4]季度|前三季度|全年")
CONNECTOR = re.compile(r"(?:由于|因为|因此|所以|而且|并且|但是|不过|其中|故|即|当|是|为|在|于|从|以)")


@dataclass
class Span:
    start: int
    end: int
    text: str
    type: str


def candidates(sentence: str, question: str) -> tuple[list[Span], dict[int, str]]:
    """Every candidate short answer of `sentence`, typed spans first, without duplicates; and the
    jieba tag of the word starting at each offset."""
    from qa.lexical import _jieba

    spans: dict[tuple[int, int], Span] = {}

    def add(a, b, t):
        text = sentence[a:b]
        if text.strip() and (a, b) not in spans:
            spans[(a, b)] = Span(a, b, text, t)

    for m in numbers(sentence, question):
        add(m.start(), m.start() + len(m.group().rstrip()), "number")
    if "第几" in to_simplified(question):  # an ordinal is the answer only when one is asked for (第三十九位)
        for m in ORDINAL.finditer(sentence):
            add(m.start(), m.end(), "number")
    for m in DATE.finditer(sentence):
        add(m.start(), m.end(), "date")
    simple = for_search(sentence)  # jieba knows simplified Chinese: 位於瓦倫 is cut as 於瓦倫, 位于瓦伦 right
    simple = simple if len(simple) == len(sentence) else sentence
    words, pos = [], 0
    for w in _jieba().posseg.lcut(simple):
        words.append((pos, pos + len(w.word), w.flag))
        pos += len(w.word)
    for m in LIST.finditer(sentence):
        trimmed = _trim_list(m.group())
        a = sentence.find(trimmed, m.start())
        add(a, a + len(trimmed), "list")
    for a, b in list_spans(sentence, words):
        add(a, b, "list")
    for m in QUOTED.finditer(sentence):
        add(m.start(), m.end(), "quote")
    if question_kind(question) == "direction":  # the way it went, with how much and alone: 下降40.5%, 下降
        for m in DIRECTION.finditer(simple):
            add(m.start(), m.end(), "direction")
            add(m.start(), m.start() + len(direction_word(m.group())), "direction")
    for a, b, flag in words:
        if flag in ENTITY:
            add(a, b, ENTITY[flag])
    for a, b, flag in name_runs(words, sentence):  # 德里克·羅勃茲, jieba's 德里克 | · | 羅勃茲
        add(a, b, ENTITY[flag])
    for m in CLAUSE.finditer(sentence):  # a whole clause, without its connective ("因为…" → "…")
        a, b = m.start(), m.end()
        connective = CONNECTOR.match(simple, a, b)
        a = connective.end() if connective else a
        if 0 < b - a <= MAX_CLAUSE:
            add(a, b, "clause")
    for i in range(len(words)):  # runs of words inside one clause
        for j in range(i, min(i + MAX_WORDS, len(words))):
            a, b = words[i][0], words[j][1]
            if b - a > MAX_CHARS or any(ch in PUNCT for ch in sentence[a:b]):
                break
            add(a, b, "words")
    return list(spans.values()), {a: flag for a, _, flag in words}


COUNT_WORD = re.compile(r"(?:\d+|[两二三四五六七八九十几数]+)[大个项类种条座家所批只名位支]?")
LIST_CLAUSE = re.compile(r"[^，,。；;：:！？!?\s]+(?:、[^，,。；;：:！？!?\s、]+)+")  # a clause with 、 in it
LIST_STARTS, LIST_ENDS = 4, 6


def list_spans(sentence: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Lists of any item length with their bounds on jieba's word bounds: from one of the last
    LIST_STARTS word starts before the first 、 to one of the first LIST_ENDS word ends after the
    last ("全面启动和组织实施大型飞机、…、大型油气田及煤层气开发等" → "大型飞机、…煤层气开发", and
    the variants with 实施, with 等 for the span model to weigh), never past a count that follows it."""
    out = []
    for m in LIST_CLAUSE.finditer(sentence):
        first, last = sentence.find("、", m.start()), sentence.rfind("、", m.start(), m.end())
        starts = [a for a, _, _ in words if m.start() <= a < first][-LIST_STARTS:]
        after = [(a, b) for a, b, _ in words if last + 1 < b <= m.end()][:LIST_ENDS]
        # a count after the last item ends the list: "祥符桥、运河湾两大历史文化街区", "A区、B区三个园区"
        stop = next((k for k, (a, b) in enumerate(after) if k and COUNT_WORD.fullmatch(sentence[a:b])), len(after))
        out += [(a, b) for a in starts for _, b in after[:stop]]
    return out


def name_runs(words: list[tuple[int, int, str]], sentence: str) -> list[tuple[int, int, str]]:
    """Runs of two or more names next to each other (a middle dot between them allowed), with the
    first name's tag: one name that jieba cut in parts (尼古拉 | 杜霍寧, 德里克 | · | 羅勃茲)."""
    def name(k):
        return k < len(words) and words[k][2] in ENTITY

    runs, i = [], 0
    while i < len(words):
        j = i
        while name(j):
            if name(j + 1):
                j += 1
            elif j + 1 < len(words) and sentence[words[j + 1][0]:words[j + 1][1]] in DOTS and name(j + 2):
                j += 2
            else:
                break
        if j > i:
            runs.append((words[i][0], words[j][1], words[i][2]))
        i = j + 1
    return runs


@dataclass
class Asked:
    """What the question word asks, read once per question: its WH_TYPES one-hot, the noun it asks
    about ("哪一座公园" → 公园), and the question's content words before and after it."""
    wh: list[float]
    head: str
    before: list[str]
    after: list[str]
    left_text: str = ""
    right_text: str = ""
    grain: str = ""  # the last character of a date of the precision asked: 年 for 哪一年, 代 for 哪个年代


# the precision of the date a question asks for, by the character its answer ends with
# (the finest asked first: 几月几号 asks a day)
GRAINS = (("代", re.compile(r"(?:哪一?个?|什么)年代")), ("日", re.compile(r"哪一?天|几号|几日|何日|哪一日")),
          ("月", re.compile(r"几月|哪一?个月|什么月份")), ("年", re.compile(r"哪一?个?年|何年|什么年份|几几年")))


def asked(q: Question) -> Asked:
    from qa.lexical import _jieba

    found = [question_word(r, q.folded) for r in WH_RE.values()]
    wh = [float(m is not None) for m in found]
    m = next((m for m in found if m), None)
    grain = next((g for g, r in GRAINS if r.search(to_simplified(q.text))), "")  # not q.folded: 哪1年
    if m is None:
        return Asked(wh, "", [], [], grain=grain)
    head = ""
    for w in _jieba().posseg.lcut(q.folded[m.end():m.end() + 8])[:3]:  # skip "一", "个", "座": the first noun
        if w.flag.startswith("n"):
            head = w.word
            break
        if not (w.flag in ("m", "q", "mq") or w.word in "一个些种座家所条项部本位名类只间是的"):
            break
    before = [t for t in q.weights if 0 <= q.folded.find(t) < m.start()]
    after = [t for t in q.weights if q.folded.find(t) >= m.end()]
    w = question_word(WH, q.folded) or m  # the whole question word: 哪里 in 在哪里, where WH_RE found 在哪
    return Asked(wh, head, before, after, _plain(q.folded[:w.start()]), _plain(q.folded[w.end():]), grain)


def _plain(text: str) -> str:
    return "".join(c for c in text if c not in PUNCT and not c.isspace() and c not in "?？")


ALIGN = 8


def _align(shared: "Around", a: int, b: int) -> list[float]:
    """How much of the question's text just before its question word ends just before the span
    (within a gap of up to three characters), and how much just after it starts just after."""
    ending, starting = shared.ending, shared.starting  # padded: a gap never runs off the sentence
    lead = max(ending[a + 3], ending[a + 2] / 2, ending[a + 1] / 3, ending[a] / 4)
    follow = max(starting[b], starting[b + 1] / 2, starting[b + 2] / 3, starting[b + 3] / 4)
    return [lead / ALIGN, follow / ALIGN, ending[a + 3] / ALIGN, starting[b] / ALIGN]


def matched(folded: str, left: str, right: str) -> tuple[list[int], list[int]]:
    """For each offset i of the sentence: how many of `left`'s last characters end there
    (`ending[i + 3]`), and how many of `right`'s first characters start there (`starting[i]`), at
    most ALIGN each; padded with zeros for the gaps before the start and past the end."""
    left, right, n = left[-ALIGN:], right[:ALIGN], len(folded)
    ending, starting = [0] * (n + 1), [0] * (n + 1)
    for i in range(n + 1):
        k = 0
        while k < len(left) and i - k - 1 >= 0 and folded[i - k - 1] == left[-k - 1]:
            k += 1
        ending[i] = k
        k = 0
        while k < len(right) and i + k < n and folded[i + k] == right[k]:
            k += 1
        starting[i] = k
    return [0, 0, 0] + ending, starting + [0, 0, 0]  # ending[i + 3] is offset i's; three zeros each side for gaps


@dataclass
class Around:
    """What every span of one sentence shares: the question words' total weight, the words next
    to the question word, the word starts (`flags`' offsets, ascending), where the question's
    anchors occur in the folded sentence and its clause ends."""
    total: float
    ctx: list[str]
    offsets: list[int]
    left_at: list[int]
    right_at: list[int]
    ends: list[int]
    names: list[tuple[int, int, str]] = field(default_factory=list)  # name_runs of the sentence
    ending: list[int] = field(default_factory=list)  # see `matched`
    starting: list[int] = field(default_factory=list)


def around(q: Question, flags: dict[int, str], folded: str, wants: Asked) -> Around:
    left, right = q.anchors
    offsets = list(flags)
    words = [(a, b, flags[a]) for a, b in zip(offsets, offsets[1:] + [len(folded)])]
    return Around(sum(q.weights.values()) or 1.0, q.wh_context or list(q.weights), offsets,
                  list(_find_all(folded, left)) if left else [], list(_find_all(folded, right)) if right else [],
                  clause_ends(folded), name_runs(words, folded), *matched(folded, wants.left_text, wants.right_text))


def span_features(q: Question, sentence: str, span: Span, flags: dict[int, str], folded: str,
                  anchors: list[int], wants: Asked, shared: Around | None = None) -> list[float]:
    """The SPAN_FEATURES of one span. `flags`: jieba tag of the word starting at each offset;
    `folded` the sentence as matched (same length, see `span_matrix`); `anchors` where the
    question's words occur in it (see `anchors_of`); `wants` what the question word asks;
    `shared` what every span of the sentence shares (see `around`), made here when not given."""
    shared = around(q, flags, folded, wants) if shared is None else shared
    a, b = span.start, span.end
    text, left, right, before = folded[a:b], folded[max(0, a - 12):a], folded[b:b + 12], folded[max(0, a - 14):a]
    total, ctx = shared.total, shared.ctx
    near = min((abs(a - i) for i in anchors), default=99)
    types = [float(span.type == t) for t in TYPES]
    match = float(span.type in KIND_TYPES.get(q.kind, ()))
    unit_ok = clash = 0.0
    if span.type == "number" and q.kind == "number" and asked_unit(q.text):
        m = next((m for m in numbers(sentence, q.text) if m.start() == span.start), None)
        unit_ok = float(bool(m and answers_count(sentence, m, q.text)))
        clash = float(bool(m and not unit_ok and unit_clash(m.group(), q.text)))
    end_flag = next((flags[i] for i in range(span.end - 1, span.start - 1, -1) if i in flags), "")
    offsets = shared.offsets  # word starts, ascending: the words inside the span and the one before it by bisection
    first, after = bisect_left(offsets, span.start), bisect_left(offsets, span.end)
    # a number right after a change word is a change: a level asked answered with it, or the reverse
    changed = span.type == "number" and bool(CHANGE_BEFORE.search(folded[max(0, a - 6):a]))
    return [
        *types, match, unit_ok,
        sum(ch in q.chars for ch in text) / max(1, len(text)), float(text in q.folded),
        sum(t in left for t in ctx) / len(ctx) if ctx else 0.0,
        sum(t in right for t in ctx) / len(ctx) if ctx else 0.0,
        sum(w for t, w in q.weights.items() if t in before) / total,
        1.0 / (1 + near / 5), math.log(1 + len(text)), float(after - first),
        float(span.start == 0 or sentence[span.start - 1] in PUNCT),
        float(span.end >= len(sentence) or sentence[span.end] in PUNCT),
        float(end_flag.startswith("n")), float(flags.get(span.start, "").startswith("v")),
        float(bool(DIGIT.search(text))), span.start / max(1, len(sentence)),
        *_gaps(q, folded, a, b, shared),
        *wants.wh, *_pos(flags.get(a, "")), *_pos(end_flag),
        *_pos(flags[offsets[first - 1]] if a > 0 else "x"), *_pos(flags.get(b, "x")),
        *(context := _context(q, wants, folded, a, b, shared.ends, total)),
        *_align(shared, a, b),
        float(any(c <= a and b <= d and (a, b) != (c, d) for c, d, _ in shared.names)),  # a part of one name
        max(match, context[0]),  # of the kind asked, or ending with the noun asked about (head_in)
        float(q.kind == "number" and not q.change and changed),
        float(q.change and span.type == "number" and not changed),
        clash,
        float(bool(wants.grain) and text.endswith(wants.grain) and bool(DIGIT.search(text) or "年" in text)),
        *list_balance(sentence[a:b]),
        *_extra(q, folded, flags, shared, a, b),
        *_periods(q, folded, shared.ends, a, b),
    ]


@lru_cache(maxsize=256)
def _asked_periods(question: str) -> frozenset[str]:
    """The periods a question names, folded as sentences are (Question.folded writes 一季度 as 1季度)."""
    return frozenset(PERIOD.findall(for_search(question)))


def _periods(q: Question, folded: str, ends: list[int], a: int, b: int) -> tuple[float, float]:
    """Whether the span's clause names a period the question does not (五年 新增 for "2007年新增多少"),
    and whether the question names one its sentence does not (一季度 for a year's figure)."""
    lo, hi = clause_of(ends, len(folded), a, b)
    clause = folded[lo:hi]
    asked = _asked_periods(q.text)
    return (float(any(p not in asked for p in PERIOD.findall(clause))),
            float(any(p not in folded for p in asked)))


def _extra(q: Question, folded: str, flags: dict[int, str], shared: Around, a: int, b: int) -> tuple[float, float]:
    """The share of the characters of the nouns next to the span in its clause (up to 12 before it,
    8 after it) that the question does not write: of "新能源汽车产量达到95.3万辆" asked "汽车总产量是
    多少", 新能源 is a kind of car the question does not ask about (3 of 7); 0 where no noun is near."""
    offsets = shared.offsets
    lo, hi = clause_of(shared.ends, len(folded), a, b)
    lo, hi = max(lo, a - 12), min(hi, b + 8)
    out = []
    for start, stop in ((lo, a), (b, hi)):
        k = bisect_left(offsets, start)
        nouns = ""
        while k < len(offsets) and offsets[k] < stop:
            end = offsets[k + 1] if k + 1 < len(offsets) else len(folded)
            if end <= stop and (flags[offsets[k]][:1] in ("n", "j") or flags[offsets[k]] == "vn"):
                nouns += folded[offsets[k]:end]
            k += 1
        out.append(sum(ch not in q.chars for ch in nouns) / len(nouns) if nouns else 0.0)
    return out[0], out[1]


def list_balance(text: str) -> tuple[float, float]:
    """How far the first and the last item of a list are from the length of the items between
    them (of each other, for two items), as |log ratio|: the items of a list run parallel, so a
    first item with the verb before it, or a last item cut inside a word, stands out. 0, 0 for a
    span that is not a list."""
    parts = text.split("、")
    if len(parts) < 2 or not all(parts):
        return 0.0, 0.0
    first, last = len(parts[0]), len(re.split(r"[和及与]", parts[-1])[0]) or len(parts[-1])
    middle = sorted(map(len, parts[1:-1]))
    ref_first, ref_last = (middle[len(middle) // 2],) * 2 if middle else (last, first)
    return abs(math.log(first / ref_first)), abs(math.log(last / ref_last))


@lru_cache(maxsize=None)
def _pos(flag: str) -> tuple[float, ...]:
    """One-hot of a jieba tag: the exact tag when listed, else its first letter, else x."""
    tag = flag if flag in POS else flag[:1] if flag[:1] in POS else "x"
    return tuple(float(tag == t) for t in POS)


def clause_of(ends: list[int], n: int, a: int, b: int) -> tuple[int, int]:
    """The clause of the span a:b of a sentence of n characters whose clause ends are `ends`: after the
    last end before a, to the first end at or after b."""
    i, j = bisect_left(ends, a), bisect_left(ends, b)
    return ends[i - 1] + 1 if i else 0, ends[j] if j < len(ends) else n


def clause_ends(folded: str) -> list[int]:
    """Where the clause-ending punctuation of a sentence is, ascending."""
    return [i for i, c in enumerate(folded) if c in CLAUSE_ENDS]


def _context(q: Question, wants: Asked, folded: str, a: int, b: int, ends: list[int], total: float) -> list[float]:
    """Whether the span is (or is followed by) the noun asked about; the question's words close
    before and after it in its clause, and anywhere in its clause; and whether the words the question puts before its
    question word come before the span, those after it after."""
    head = wants.head
    head_in = float(bool(head) and folded[a:b].endswith(head))
    head_char = float(bool(head) and folded[a:b].endswith(head[-1]))  # 明治大学 for 哪一所大学, 托列斯海峡 for 海峡
    head_after = float(bool(head) and folded.startswith(head, b))
    lo, hi = clause_of(ends, len(folded), a, b)
    left, right = folded[max(lo, a - 6):a], folded[b:min(hi, b + 6)]  # close by, in its own clause
    clause = folded[lo:a] + " " + folded[b:hi]
    order_l = sum(t in folded[:a] for t in wants.before) / len(wants.before) if wants.before else 0.0
    order_r = sum(t in folded[b:] for t in wants.after) / len(wants.after) if wants.after else 0.0
    return [head_in, head_after, sum(w for t, w in q.weights.items() if t in left) / total,
            sum(w for t, w in q.weights.items() if t in right) / total,
            sum(w for t, w in q.weights.items() if t in clause) / total, order_l, order_r, head_char]


def _gaps(q: Question, folded: str, a: int, b: int, shared: Around) -> list[float]:
    """How closely the span follows the question's left anchor and precedes its right one, and
    whether it swallows one of them."""
    left, right = q.anchors
    lg = max((1 / (1 + a - (i + 2)) for i in shared.left_at if i + 2 <= a), default=0.0) if left else 0.0
    rg = max((1 / (1 + i - b) for i in shared.right_at if i >= b), default=0.0) if right else 0.0
    holds = float(bool(left and left in folded[a:b]) or bool(right and right in folded[a:b]))
    return [lg, rg, holds]


def span_matrix(q: Question, sentence: str) -> tuple[list[Span], np.ndarray]:
    """The candidate spans of `sentence` that are not the question's own words, and their features."""
    spans, flags = candidates(sentence, q.text)
    spans = [s for s, text in zip(spans, for_search_all([s.text for s in spans]))
             if text not in q.folded]  # the question's own words answer nothing
    folded = for_search(sentence)
    folded = folded if len(folded) == len(sentence) else sentence
    wants = asked(q)
    anchors, shared = anchors_of(q, folded), around(q, flags, folded, wants)
    X = np.array([span_features(q, sentence, s, flags, folded, anchors, wants, shared=shared)
                  for s in spans]).reshape(len(spans), len(SPAN_FEATURES))
    return spans, X


def anchors_of(q: Question, folded: str) -> list[int]:
    """Offsets in the folded sentence where a content word of the question occurs."""
    return [i for t in q.weights for i in _find_all(folded, t)]


def _find_all(text: str, word: str):
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)
