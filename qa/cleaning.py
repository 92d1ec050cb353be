"""Stage 2: clean scraped report text into paragraphs, keeping headings as headings.

The cleaned text is what users see and what citations point into, so cleaning only removes noise:
pinyin left by web scraping, stray spaces, and line breaks in the middle of a sentence.
"""

from __future__ import annotations

import re

TONES = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# "區(qū)" → "區": lowercase pinyin with at least one tone mark, in parentheses, right after a Han
# character. Plain "(de)" or "(GDP)" is left alone.
PINYIN = re.compile(rf"(?<=[\u4e00-\u9fff])[(（](?=[a-zü{TONES}]*[{TONES}])[a-zü{TONES}]{{1,7}}[)）]")

TERMINAL = set("。！？；：…!?;:”’」』")
CLAUSE_MARKS = set("，、,；;。")
HAN_SPACE = re.compile(r"(?<=[\u4e00-\u9fff，、。；：“”]) +(?=[\u4e00-\u9fff，、。；：“”])")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)

# Heading patterns and their level in the heading path.
HEADINGS = [
    (re.compile(r"^(#{1,6})\s+"), None),  # Markdown: level = number of #
    (re.compile(r"^[一二三四五六七八九十]{1,3}[、.．]"), 1),
    (re.compile(r"^[（(][一二三四五六七八九十]{1,3}[）)]"), 2),
    (re.compile(r"^\d{1,2}(?:[、．]|\.(?!\d))\s*"), 3),
    (re.compile(r"^\*\*[^*]+\*\*"), 7),
]
PLAIN_HEADING_LEVEL = 7
MAX_HEADING_CHARS = 40


def strip_pinyin(text: str) -> str:
    return PINYIN.sub("", text)


def clean(text: str) -> str:
    """Return cleaned text: one paragraph per line, no blank lines."""
    text = strip_pinyin(text.translate(INVISIBLE))
    paragraphs: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip(" \t\u3000\xa0")
        if not line:
            continue
        if paragraphs and _broken_after(paragraphs[-1]) and heading_level(line) is None:
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
    return "\n".join(_join_han_spaces(p) for p in paragraphs)


def _broken_after(line: str) -> bool:
    """A line of running text that stops without sentence punctuation was broken mid-sentence.

    Short numbered headings ("二、…落到实处") also end without punctuation; they are kept.
    """
    if line[-1] in TERMINAL or line[-1] in ")）*":
        return False
    if re.match(r"^\*\*[^*]+\*\*.", line):  # "**lead-in。**按照" runs on into the next line
        return True
    if heading_level(line) is not None and len(line) <= MAX_HEADING_CHARS:
        return False
    return len(line) >= 30 and any(c in CLAUSE_MARKS for c in line)


def _join_han_spaces(line: str) -> str:
    """Running text scraped from print has stray spaces between characters ("总 书记")."""
    return HAN_SPACE.sub("", line) if "。" in line else line


def heading_level(line: str) -> int | None:
    """The heading level of a paragraph that starts with a heading, else None."""
    for pattern, level in HEADINGS:
        m = pattern.match(line)
        if m:
            return len(m.group(1)) if level is None else level
    if len(line) <= MAX_HEADING_CHARS and line[-1] not in TERMINAL and "。" not in line:
        return PLAIN_HEADING_LEVEL
    return None


def heading_text(line: str) -> str:
    """A short label for a heading paragraph; for a lead-in paragraph, its first sentence or clause."""
    label = re.sub(r"^#{1,6}\s+", "", line)
    bold = re.match(r"^\*\*([^*]+)\*\*", label)
    if bold:
        label = bold.group(1)
    label = re.split(r"(?<=[。；;！？])", label, maxsplit=1)[0]
    if len(label) > MAX_HEADING_CHARS:
        label = re.split(r"[，,]", label, maxsplit=1)[0][:MAX_HEADING_CHARS]
    return label.strip().rstrip("。；;")
