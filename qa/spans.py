"""Short answers: candidate spans of the chosen sentence and what the span model knows of each.

Candidates are numbers with their units, dates, lists, quoted names, jieba's person, place and
organisation names, and runs of one to four words inside a clause. The learned span model
(qa/learned.py) picks one; the span is copied verbatim, so a user finds it in the report.
Also here: the question-level features of the refusal model (`ANSWERABLE_FEATURES`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from qa.extract import DATE, LIST, _trim_list, answers_count, asked_unit, numbers
from qa.features import SENTENCE_FEATURES, Question
from qa.normalize import for_search

TYPES = ("number", "date", "list", "quote", "person", "place", "org", "words")
SPAN_FEATURES = (
    *(f"is_{t}" for t in TYPES), "type_match", "unit_ok", "q_overlap", "in_question", "left_ctx",
    "right_ctx", "before_words", "near", "log_len", "n_words", "clause_start", "clause_end",
    "noun_end", "verb_start", "has_digit", "position", "left_gap", "right_gap", "holds_anchor",
)
# The refusal model sees how sure the sentence and span models are, and every feature of the
# chosen sentence and of its chosen span: which of them say "this does not answer" is for the
# data to tell.
ANSWERABLE_FEATURES = (
    "p_best", "s_best", "margin", "span_p", "has_span", "kind_none", "n_words",
    *(f"best_{f}" for f in SENTENCE_FEATURES), *(f"span_{f}" for f in SPAN_FEATURES),
)
PUNCT = set("，,。：:；;！？!?、（）()“”《》「」")
KIND_TYPES = {"number": {"number"}, "date": {"date"}, "list": {"list"}, "person": {"person"},
              "place": {"place", "org"}}
ENTITY = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "org", "nz": "org"}
QUOTED = re.compile(r"“([^”]{1,24})”|《([^》]{1,30})》|「([^」]{1,24})」")
MAX_WORDS, MAX_CHARS = 6, 24


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
    for m in DATE.finditer(sentence):
        add(m.start(), m.end(), "date")
    for m in LIST.finditer(sentence):
        trimmed = _trim_list(m.group())
        a = sentence.find(trimmed, m.start())
        add(a, a + len(trimmed), "list")
    for m in QUOTED.finditer(sentence):
        add(m.start(), m.end(), "quote")
    words, pos = [], 0
    for w in _jieba().posseg.lcut(sentence):
        words.append((pos, pos + len(w.word), w.flag))
        pos += len(w.word)
    for a, b, flag in words:
        if flag in ENTITY:
            add(a, b, ENTITY[flag])
    for i in range(len(words)):  # runs of words inside one clause
        for j in range(i, min(i + MAX_WORDS, len(words))):
            a, b = words[i][0], words[j][1]
            if b - a > MAX_CHARS or any(ch in PUNCT for ch in sentence[a:b]):
                break
            add(a, b, "words")
    return list(spans.values()), {a: flag for a, _, flag in words}


def span_features(q: Question, sentence: str, span: Span, flags: dict[int, str], folded: str,
                  anchors: list[int]) -> list[float]:
    """The SPAN_FEATURES of one span. `flags`: jieba tag of the word starting at each offset;
    `folded` the sentence as matched (same length, see `span_matrix`); `anchors` where the
    question's words occur in it (see `anchors_of`)."""
    a, b = span.start, span.end
    text, left, right, before = folded[a:b], folded[max(0, a - 12):a], folded[b:b + 12], folded[max(0, a - 14):a]
    total = sum(q.weights.values()) or 1.0
    ctx = q.wh_context or list(q.weights)
    near = min((abs(a - i) for i in anchors), default=99)
    types = [float(span.type == t) for t in TYPES]
    match = float(span.type in KIND_TYPES.get(q.kind, ()))
    unit_ok = 0.0
    if span.type == "number" and q.kind == "number" and asked_unit(q.text):
        m = next((m for m in numbers(sentence, q.text) if m.start() == span.start), None)
        unit_ok = float(bool(m and answers_count(sentence, m, q.text)))
    end_flag = next((flags[i] for i in range(span.end - 1, span.start - 1, -1) if i in flags), "")
    return [
        *types, match, unit_ok,
        sum(ch in q.chars for ch in text) / max(1, len(text)), float(text in q.folded),
        sum(t in left for t in ctx) / len(ctx) if ctx else 0.0,
        sum(t in right for t in ctx) / len(ctx) if ctx else 0.0,
        sum(w for t, w in q.weights.items() if t in before) / total,
        1.0 / (1 + near / 5), math.log(1 + len(text)), float(len([i for i in flags if span.start <= i < span.end])),
        float(span.start == 0 or sentence[span.start - 1] in PUNCT),
        float(span.end >= len(sentence) or sentence[span.end] in PUNCT),
        float(end_flag.startswith("n")), float(flags.get(span.start, "").startswith("v")),
        float(bool(re.search(r"\d", text))), span.start / max(1, len(sentence)),
        *_gaps(q, folded, a, b),
    ]


def _gaps(q: Question, folded: str, a: int, b: int) -> list[float]:
    """How closely the span follows the question's left anchor and precedes its right one, and
    whether it swallows one of them."""
    left, right = q.anchors
    lg = max((1 / (1 + a - (i + 2)) for i in _find_all(folded, left) if i + 2 <= a), default=0.0) if left else 0.0
    rg = max((1 / (1 + i - b) for i in _find_all(folded, right) if i >= b), default=0.0) if right else 0.0
    holds = float(bool(left and left in folded[a:b]) or bool(right and right in folded[a:b]))
    return [lg, rg, holds]


def span_matrix(q: Question, sentence: str) -> tuple[list[Span], np.ndarray]:
    """The candidate spans of `sentence` that are not the question's own words, and their features."""
    spans, flags = candidates(sentence, q.text)
    spans = [s for s in spans if for_search(s.text) not in q.folded]  # the question's own words answer nothing
    folded = for_search(sentence)
    folded = folded if len(folded) == len(sentence) else sentence
    anchors = anchors_of(q, folded)
    X = np.array([span_features(q, sentence, s, flags, folded, anchors) for s in spans]).reshape(len(spans), len(SPAN_FEATURES))
    return spans, X


def anchors_of(q: Question, folded: str) -> list[int]:
    """Offsets in the folded sentence where a content word of the question occurs."""
    return [i for t in q.weights for i in _find_all(folded, t)]


def _find_all(text: str, word: str):
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)
