"""Stage 3: normalise text for search only (traditional → simplified, width folding).

The display text is never changed; only what is indexed and what a question is matched with.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text)


@lru_cache(maxsize=1)
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _to_traditional().convert(text)


def is_traditional(text: str) -> bool:
    """Written in traditional characters: it reads otherwise simplified."""
    return to_simplified(text) != text


def for_search(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width), simplified, lowercase."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def for_search_all(texts: list[str]) -> list[str]:
    """[for_search(t) for t in texts], in one conversion of the texts joined by line breaks: no
    NFKC composition, no case rule (final sigma) and no OpenCC dictionary word crosses one, so
    each text folds as it would alone. Texts that hold a line break are folded one by one."""
    if len(texts) < 2 or any("\n" in t for t in texts):
        return [for_search(t) for t in texts]
    out = for_search("\n".join(texts)).split("\n")
    return out if len(out) == len(texts) else [for_search(t) for t in texts]


def for_matching(text: str) -> str:
    """`for_search`, with Chinese-numeral quantities in digits (四十二个 → 42个, 4,000 → 4000): what
    the search tokens and the answerer's word matching see."""
    from qa.numbers import fold_numerals

    return fold_numerals(for_search(text))


# Abbreviations people type for what reports spell out. GDP is 国内生产总值 in the national reports and
# 地区生产总值 (or 全省生产总值) in a province's: 生产总值 is what they share.
SPELLED_OUT = {"gdp": "生产总值", "gnp": "国民生产总值", "cpi": "居民消费价格", "ppi": "工业生产者出厂价格", "r&d": "研发"}
ABBREVIATION = re.compile(rf"(?<![a-z])(?:{'|'.join(map(re.escape, SPELLED_OUT))})(?![a-z])")
HAN = re.compile(r"[\u4e00-\u9fff]")


def spelled(folded: str) -> str:
    """A folded text (`for_search`, `for_matching`) with its abbreviations spelled out, for the search
    tokens of reports and questions alike: a report that writes CPI is found by a question that does
    not."""
    return ABBREVIATION.sub(lambda m: SPELLED_OUT[m.group()], folded)


def spell_out(question: str) -> str:
    """A Chinese question with GDP, GNP, CPI, PPI and R&D (any case, full-width too) spelled out as
    reports write them: "广西2025年CPI涨幅目标是多少？" → "广西2025年居民消费价格涨幅目标是多少？". A question in
    another language is left as it is."""
    if not HAN.search(question):
        return question
    folded = unicodedata.normalize("NFKC", question).lower()
    if len(folded) != len(question):  # NFKC changed a length: no offsets to map back
        return question
    out, at = [], 0
    for m in ABBREVIATION.finditer(folded):
        out += [question[at:m.start()], SPELLED_OUT[m.group()]]
        at = m.end()
    return "".join(out) + question[at:]

