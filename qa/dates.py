"""Dates as reports write them: "2025年1月15日", "二〇二四年一月二十三日", "１９８７年", "1 9 9 3 年";
and the years of the national meetings a report is given at (第十届全国人民代表大会第一次会议 → 2003)."""

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


CN_N = "[一二三四五六七八九十百零〇]+"  # a number in Chinese numerals: 十四, 二十
# The national meetings' calendar: the first session of the Nth National People's Congress, and the
# year of the Communist Party's Nth National Congress. From the 5th NPC (1978) and the 12th congress
# (1982) on, a term is five years and the NPC meets once a year.
NPC_FIRST = {1: 1954, 2: 1959, 3: 1964, 4: 1975}
CPC_CONGRESS = {8: 1956, 9: 1969, 10: 1973, 11: 1977}
NPC_SESSION = re.compile(rf"第({CN_N})届全国人民代表大会(?:第({CN_N})次(?:全体)?会议)?")
CPC_NATIONAL = re.compile(rf"(?:中国共产党|党的)第({CN_N})次全国代表大会")
# a government at the end of its term reviews it: "第十届全国人民代表大会第一次会议以来的五年", "第六届全国人民代表大会期间"
TERM_REVIEWED = re.compile(rf"第({CN_N})届全国人民代表大会(?:第一次会议)?(?:以来的五年|期间)")


def npc_year(term: int, session: int = 1) -> int | None:
    """The year of a session of the Nth National People's Congress, where the calendar fixes it."""
    if term >= 5:
        return 1978 + 5 * (term - 5) + session - 1
    return NPC_FIRST[term] + session - 1 if term in NPC_FIRST and (session == 1 or term == 1) else None


def meeting_year(meeting: str | None) -> int | None:
    """The year a national meeting was held, from its name: 第十届全国人民代表大会第一次会议 → 2003,
    中国共产党第十五次全国代表大会 → 1997. None for any other meeting (a province numbers its
    congresses its own way)."""
    m = NPC_SESSION.search(meeting or "")
    if m:
        return npc_year(int(cn_number(m.group(1))), int(cn_number(m.group(2))) if m.group(2) else 1)
    m = CPC_NATIONAL.search(meeting or "")
    if m:
        n = int(cn_number(m.group(1)))
        return 1982 + 5 * (n - 12) if n >= 12 else CPC_CONGRESS.get(n)
    return None
