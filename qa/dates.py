"""Dates as reports write them: "2025年1月15日", "二〇二四年一月二十三日", "１９８７年", "1 9 9 3 年"."""

from __future__ import annotations

import re

from qa.normalize import for_search

FULL_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
DATE_LINE = re.compile(r"^[(（]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[)）]$")
YEAR_IN = re.compile(r"((?:19|20)\d{2})\s*年")
CN_DIGITS = "〇一二三四五六七八九零"
CN_DATE = re.compile(r"([〇零一二三四五六七八九]{4})年(?:([一二三四五六七八九十]{1,2})月(?:([一二三四五六七八九十]{1,3})日)?)?")


def normalise(line: str) -> str:
    """Simplified, half-width, "1 9 9 3年" closed up and "二〇二四年一月二十三日" in digits: for matching."""
    line = re.sub(r"(?<=\d) (?=\d)", "", for_search(line))
    return CN_DATE.sub(lambda m: "".join(f"{cn_number(g)}{unit}" for g, unit in
                                         zip(m.groups(), "年月日") if g), line)


def cn_number(text: str) -> str:
    """"二〇二四" → "2024" (digit by digit); "二十三" → "23"."""
    if len(text) == 4 and "十" not in text:
        return "".join(str(CN_DIGITS.index(c) % 10) for c in text)
    tens, _, ones = text.rpartition("十")
    if "十" not in text:
        return str(CN_DIGITS.index(text) % 10)
    return str((CN_DIGITS.index(tens) % 10 if tens else 1) * 10 + (CN_DIGITS.index(ones) % 10 if ones else 0))


def iso(year: str, month: str, day: str) -> str:
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
