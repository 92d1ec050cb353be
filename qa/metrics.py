"""Evaluation metrics as plain functions: retrieval ranks, answer overlap, citations, latency.

Answers are compared the way the Chinese reading-comprehension benchmarks (CMRC 2018, DRCD) score
them: after folding traditional → simplified, full → half width and case, and dropping
punctuation and white space, the text is split into characters, except that a run of Latin letters
is one token and so is a number. Two differences from the CMRC script, both to keep figures
meaningful: a thousands separator inside a number is dropped (4,000户 = 4000户) and a decimal point
between digits is kept (8.7% ≠ 87).
"""

from __future__ import annotations

import math
import re
import unicodedata

from qa.normalize import for_search

_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_TOKEN = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)*|\S")
_MARKER = re.compile(r"\[\d+\]")
# A number as written in an answer: 4000, 4,000, 228.12, 8.7 (dates are numbers too: 2016年7月28日
# gives 2016, 7 and 28, each of which must occur in a cited passage).
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def normalize_answer(text: str) -> str:
    """Folded, punctuation-free, space-free text; decimal points between digits survive."""
    text = _THOUSANDS.sub("", for_search(text or ""))
    text = _DECIMAL.sub("\0", text)  # protect decimal points from the punctuation filter
    kept = [ch for ch in text if ch == "\0" or not (ch.isspace() or _is_punct(ch))]
    return "".join(kept).replace("\0", ".")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def answer_tokens(text: str) -> list[str]:
    """Characters of normalized text, a Latin or digit run being one token (CMRC 2018 style)."""
    return _TOKEN.findall(normalize_answer(text))


def exact_match(prediction: str, golds: list[str]) -> float:
    """1.0 when the normalized prediction equals some normalized gold answer."""
    p = normalize_answer(prediction)
    return float(bool(p) and any(p == normalize_answer(g) for g in golds))


def _longest_common_substring(a: list[str], b: list[str]) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def char_f1(prediction: str, golds: list[str]) -> float:
    """Token-level F1 over the longest common substring, max over gold answers (CMRC 2018)."""
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = answer_tokens(gold)
        common = _longest_common_substring(pred, ref)
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(text: str, golds: list[str]) -> bool:
    """Answer accuracy: some gold answer occurs, normalized, inside the normalized text."""
    t = normalize_answer(text)
    return any((g := normalize_answer(gold)) and g in t for gold in golds)


# Retrieval: `relevant` is a list of booleans, one per retrieved passage, best first;
# `total` is how many relevant passages exist in the index.

def hit_at(relevant: list[bool], k: int) -> float:
    return float(any(relevant[:k]))


def recall_at(relevant: list[bool], k: int, total: int) -> float:
    """Share of the index's relevant passages in the top k (1.0 when some is found and the count
    is unknown, i.e. total 0 but a retrieved one is relevant)."""
    found = sum(relevant[:k])
    if total <= 0:
        return float(found > 0)
    return min(found / total, 1.0)


def reciprocal_rank(relevant: list[bool], k: int = 10) -> float:
    return next((1 / rank for rank, r in enumerate(relevant[:k], start=1) if r), 0.0)


def ndcg_at(relevant: list[bool], k: int, total: int) -> float:
    """Binary-relevance nDCG@k; the ideal ranking puts all `total` relevant passages first."""
    dcg = sum(1 / math.log2(rank + 1) for rank, r in enumerate(relevant[:k], start=1) if r)
    ideal_n = min(max(total, sum(relevant[:k])), k)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, ideal_n + 1))
    return dcg / ideal if ideal else 0.0


# Citations

def numbers_in(text: str) -> list[str]:
    """The numbers an answer states, thousands separators dropped, citation markers ignored."""
    text = unicodedata.normalize("NFKC", _MARKER.sub("", text or ""))
    return [m.replace(",", "") for m in _NUMBER.findall(text)]


def unsupported_numbers(answer: str, cited_texts: list[str]) -> list[str]:
    """Numbers (and the parts of dates) in the answer that no cited passage contains."""
    sources = [set(numbers_in(t)) for t in cited_texts]
    return [n for n in numbers_in(answer) if not any(n in s for s in sources)]


def precision(flags: list[bool]) -> float | None:
    """Share of true flags; None for an empty list (no citations: precision undefined)."""
    return sum(flags) / len(flags) if flags else None


# Aggregates

def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), q in 0..100."""
    values = sorted(values)
    if not values:
        return None
    pos = (len(values) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)
