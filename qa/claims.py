"""Checking a generated answer against its citations, claim by claim.

An answer is cut into claims: a claim ends at its citation markers ([1], [1][2], [1,2], 【1】) or
at the end of a sentence. A claim is verified when it cites at least one passage, every passage it
cites was given to the model, and every number, date, percentage and name it states occurs in one
of its cited passages (the passage text or the head shown with it: title, date, place, section),
compared after the search folding (qa/normalize.for_matching: traditional → simplified, width,
Chinese numerals → digits, 4,000 → 4000) and by value (qa/numbers: 50万 = 500000, 百分之十 = 10%).
Nothing is decided by a model: a claim fails for a reason that can be printed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from qa.chunking import sentence_spans
from qa.normalize import for_matching
from qa.numbers import find_quantities

MARKERS = re.compile(r"(?:[\[【［]\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[\]】］])+")
NUMBER_IN = re.compile(r"\d{1,2}")
SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
CONTENT = re.compile(r"[\w%]")
LATIN = re.compile(r"[a-z][a-z0-9\-]+")
QUOTED = re.compile(r"《([^》]{2,40})》")
NAME_TAGS = ("nr", "ns", "nt", "nz")
# generic words jieba tags as names although they name nothing in particular
NOT_NAMES = {"中国", "我国", "全国", "国家", "全省", "全市", "全区", "全县", "政府", "人民", "中央", "国务院"}


@dataclass
class Claim:
    text: str  # as written in the answer, without its markers
    citations: list[int]  # passage numbers it cites, in order
    verified: bool = False
    reason: str = ""  # why not verified; "" when verified
    quotes: dict[int, str] = field(default_factory=dict)  # n → the sentence of passage n that best supports it
    # why, for a reader in any language: ("no_citation" | "not_given" | "absent", the items, the refs)
    why: tuple = ()

    def json(self) -> dict:
        return {"text": self.text, "citations": self.citations, "verified": self.verified,
                "reason": self.reason or None, "quotes": {str(n): q for n, q in self.quotes.items()}}


def split_claims(answer: str) -> list[Claim]:
    """The claims of an answer, with the passage numbers each cites."""
    claims: list[Claim] = []
    pos = 0
    for m in MARKERS.finditer(answer):
        _add_sentences(claims, answer[pos:m.start()], [int(x) for x in NUMBER_IN.findall(m.group())])
        pos = m.end()
    _add_sentences(claims, answer[pos:], [])
    return claims


def _add_sentences(claims: list[Claim], text: str, cited: list[int]) -> None:
    """Sentences of text become claims; the markers after the last one belong to it."""
    parts = [p for p in SENTENCE_END.split(text)]
    pieces = [p.strip(" \t，,、：:") for p in parts]
    last = max((i for i, p in enumerate(pieces) if CONTENT.search(p)), default=-1)
    for i, piece in enumerate(pieces):
        if not CONTENT.search(piece):
            continue
        claims.append(Claim(piece, list(dict.fromkeys(cited)) if i == last else []))


@dataclass
class Source:
    """What the model was shown as passage n: its head line and its text."""

    n: int
    head: str
    text: str


def facts(claim: str) -> tuple[list, list[str]]:
    """The quantities (qa/numbers.Quantity) and the names a claim states, both read from its folded text."""
    folded = for_matching(claim)
    quantities = find_quantities(folded)
    names = [w for w in _names(folded) if w not in NOT_NAMES]
    if _cjk_share(folded) >= 0.5:  # a Latin term inside Chinese (GDP, 5G); an English sentence's words name nothing
        names += [m.group() for m in LATIN.finditer(folded)]
    names += [m.group(1) for m in QUOTED.finditer(folded)]
    return quantities, list(dict.fromkeys(names))


def _cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum("\u4e00" <= ch <= "\u9fff" for ch in letters) / len(letters) if letters else 1.0


def _names(folded: str) -> list[str]:
    from qa.lexical import _jieba

    # with the user dictionary, so that domain terms stay whole
    return [w.word for w in _jieba().posseg.cut(folded) if w.flag[:2] in NAME_TAGS and len(w.word) >= 2
            and not w.word.isascii()]


def check(claim: Claim, sources: dict[int, Source]) -> Claim:
    """Fill in claim.verified, .reason and .quotes against the passages the model was given."""
    if not claim.citations:
        claim.verified, claim.reason, claim.why = False, "no citation", ("no_citation", "", "")
        return claim
    missing = [n for n in claim.citations if n not in sources]
    cited = [sources[n] for n in claim.citations if n in sources]
    for s in cited:
        claim.quotes[s.n] = best_sentence(claim.text, s.text)
    if missing:
        given = f"1–{max(sources)}" if sources else "none"
        claim.verified = False
        claim.reason = f"cites {', '.join(f'[{n}]' for n in missing)}, not a passage given (given: {given})"
        claim.why = ("not_given", _refs(missing), given)
        return claim
    quantities, names = facts(claim.text)
    folded = [for_matching(f"{s.head}\n{s.text}") for s in cited]
    found = [q for f in folded for q in find_quantities(f)]
    # a number with a unit is compared by value; a bare one (5 in 5大场馆) as written, with what follows it
    counted = [q for q in quantities if q.unit or q.magnitude or q.kind != "number"]
    absent = [q.text for q in counted if not any(_same(q, x) for x in found) and not any(q.text in f for f in folded)]
    absent += [d for d in _bare_digits(claim.text, counted) if not any(_has_digits(f, d) for f in folded)]
    if absent:
        claim.verified, claim.reason = False, f"{'、'.join(absent)} not in {_refs(claim.citations)}"
        claim.why = ("absent", "、".join(absent), _refs(claim.citations))
        return claim
    unnamed = [w for w in names if not any(w in f for f in folded)]
    if unnamed:
        claim.verified, claim.reason = False, f"{'、'.join(unnamed)} not in {_refs(claim.citations)}"
        claim.why = ("absent", "、".join(unnamed), _refs(claim.citations))
        return claim
    claim.verified, claim.reason = True, ""
    return claim


PUNCT = re.compile(r"[\s，。、；：！？,.;:!?“”‘’\"'（）()《》【】\[\]]")
DIGITS = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")


def _bare_digits(text: str, quantities) -> list[str]:
    """Digit runs of the folded claim that no quantity covers, with the character after them when
    it is no punctuation (a bare 5 is everywhere): 5大 in 5大场馆, 7+ in “7+1”, 6a in 6A级."""
    folded = for_matching(text)
    covered = [(q.start, q.end) for q in quantities]
    return [folded[m.start():m.end() + (m.end() < len(folded) and not PUNCT.match(folded[m.end()]))]
            for m in DIGITS.finditer(folded) if not any(a <= m.start() < b for a, b in covered)]


def _has_digits(folded: str, digits: str) -> bool:
    end = r"(?!\d|\.\d)" if digits[-1].isdigit() else ""
    return re.search(rf"(?<![\d.]){re.escape(digits)}{end}", folded) is not None


def _refs(ns: list[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


def _same(a, b) -> bool:
    """One number stated in the claim and one in a passage are the same: value (and range) equal,
    and the units agree where both have one; a date also matches a fuller date it is part of."""
    if "ratio" in (a.kind, b.kind) or (a.kind == "ordinal") != (b.kind == "ordinal"):
        return False  # 1:18.25:81.75 is compared as written (after folding)
    if a.kind == "date" and b.kind == "date" and a.value and b.value:
        return _date_within(int(a.value), int(b.value))
    if a.kind == "year" and b.kind == "date" and b.value:
        return int(a.value) == int(b.value) // 10000
    if a.value is None or b.value is None:
        return a.value is None and b.value is None and _close(a.low, b.low) and _close(a.high, b.high)
    if not _close(a.value, b.value):
        return False
    return not (a.unit and b.unit) or a.unit == b.unit or {a.unit, b.unit} <= {"个", "项", "家", "所", "座"}


def _date_within(a: int, b: int) -> bool:
    """a (yyyymmdd, 0 for what is not written) names the same day, month or year as b."""
    ay, am, ad = a // 10000, a // 100 % 100, a % 100
    by, bm, bd = b // 10000, b // 100 % 100, b % 100
    return (not ay or ay == by) and (not am or am == bm) and (not ad or ad == bd)


def _close(x, y) -> bool:
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def best_sentence(claim: str, passage: str) -> str:
    """The sentence of passage, verbatim, that shares most with the claim: its numbers count most,
    then its characters pairs (folded)."""
    spans = sentence_spans(passage) or [(0, len(passage))]
    target = for_matching(claim)
    pairs = {target[i:i + 2] for i in range(len(target) - 1) if CONTENT.match(target[i])}
    values = {q.value for q in find_quantities(target) if q.value is not None}

    def score(span):
        s = for_matching(passage[span[0]:span[1]])
        shared = sum(1 for i in range(len(s) - 1) if s[i:i + 2] in pairs)
        numbers = sum(1 for q in find_quantities(s) if q.value in values)
        return (numbers, shared)

    a, b = max(spans, key=score)
    return passage[a:b].strip()


def check_answer(answer: str, sources: dict[int, Source]) -> list[Claim]:
    """Every claim of answer, checked."""
    return [check(c, sources) for c in split_claims(answer)]
