"""Stage 2: clean scraped report text into paragraphs, keeping headings as headings.

The cleaned text is what users see and what citations point into, so cleaning only removes noise:
web and print noise first (qa/noise.py), then pinyin left by web scraping, stray spaces, and line
breaks in the middle of a sentence.
"""

from __future__ import annotations

import re
from collections import Counter

from qa.noise import strip_noise_pages

TONES = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# "區(qū)" → "區": lowercase pinyin with at least one tone mark, in parentheses, right after a Han
# character. Plain "(de)" or "(GDP)" is left alone.
PINYIN = re.compile(rf"(?<=[\u4e00-\u9fff])[(（](?=[a-zü{TONES}]*[{TONES}])[a-zü{TONES}]{{1,7}}[)）]")

TERMINAL = set("。！？；：…!?;:”’」』")
CLAUSE_MARKS = set("，、,；;。")
# Spaces print and PDF extraction leave between Chinese characters, and between them and a number
# ("同比增长 8%", "467.8 亿元", "2016 年"): Chinese running text has none, and they cut a number off
# the words that say what it is. A space next to a Latin letter stays ("GDP 增长").
HAN_MARK = "\u4e00-\u9fff，、。；：“”"
HAN_SPACE = re.compile(rf"(?<=[{HAN_MARK}]) +(?=[{HAN_MARK}0-9０-９])|(?<=[0-9０-９%％‰]) +(?=[{HAN_MARK}])")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)

# Heading patterns and their level in the heading path.
HEADINGS = [
    (re.compile(r"^(#{1,6})\s+"), None),  # Markdown: level = number of #
    # Appendices sit above the report's own "一、" sections, so their passages keep "附件2" in the path.
    (re.compile(r"^(?:附件|附录|附表)\s*[0-9０-９一二三四五六七八九十]{0,3}(?:[:：\s]|$)(?![^。]*。)|^名词解释$"), 0),
    (re.compile(r"^[一二三四五六七八九十]{1,3}[、.．]"), 1),
    (re.compile(r"^[（(][一二三四五六七八九十]{1,3}[）)]"), 2),
    (re.compile(r"^\d{1,2}(?:[、．]|\.(?!\d))\s*"), 3),
    (re.compile(r"^\*\*[^*]+\*\*"), 7),
]
PLAIN_HEADING_LEVEL = 7
MAX_HEADING_CHARS = 40
# Text copied out of a PDF is cut at the page's width: most of its lines have one length (a line
# with digits or Latin letters in it holds a few characters more, one ending a paragraph fewer).
WRAPPED_SHARE = 0.3
WRAPPED_FILL = 0.85
LINE_ENDS_SENTENCE = re.compile(r"[。！？；：…!?;:][”’」』）)]*$")  # a closing quote alone ends no sentence: “两新”
# A paragraph this long is no paragraph of a report (the longest in ../shared/reports has 1,342
# characters) but a dump with its line breaks lost: it is cut before each numbered heading that
# follows a sentence end ("…请予审议。一、2024年工作回顾过去一年，…"), so the heading opens a
# paragraph again and the passages after it carry it, as they do in the file with its lines.
LONG_PARAGRAPH = 2000
# after a sentence's end (its closing quote too) or a lead-in's colon ("一年来的主要工作是：（一）…")
INLINE_HEADING = re.compile(r"(?:(?<=[。！？!?：:])|(?<=[。！？!?][”’」』]))\s*(?=[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]"
                            r"|\d{1,2}(?:、|．|\.(?!\d)))"
                            # a speech's salutation opens its body (the title, date and speaker before it)
                            r"|(?<=\S)\s*(?=(?:各位代表|各位委员|同志们)[：:])")
# In such a paragraph, a heading ends where its line did, when the dump kept a space there: a space
# within a heading's length of its number, before any sentence's or clause's end ("一、2024年工作回顾
# 过去一年，…", "（二）坚持一体推进，高水平创新型省份加快建设　　教育质量稳步提升。").
HEADING_END = re.compile(rf"\S[^。；：！？;:!?\s]{{1,{MAX_HEADING_CHARS}}}(\s+)(?=\S)")


MARKUP = re.compile(r"\*\*|^#{1,6}[ \t]+", re.M)


def plain(text: str) -> str:
    """Text as a reader sees it: without Markdown bold marks and heading #s. The cleaned text keeps
    them, because they make its structure (heading levels, lead-ins: see heading_level) and
    offsets and quotes point into it; everything shown to a user goes through here."""
    return MARKUP.sub("", text or "")


def strip_pinyin(text: str) -> str:
    return PINYIN.sub("", text)


def clean(text: str) -> str:
    """Return cleaned text: one paragraph per line, no blank lines."""
    return clean_pages([text])[0]


def clean_pages(pages: list[str], continues: list[bool] | None = None) -> tuple[str, list[int]]:
    """Clean the pages of a file as one text; also return the offset in it where each page starts.

    `continues[i]` says page i opens in the middle of the previous page's last paragraph (the
    PDF reader knows from the layout). Offsets are computed on the cleaned text, so they stay right
    when cleaning joins a sentence broken across two pages or drops spaces. An empty page starts
    where the next one does.
    """
    pages = strip_noise_pages(pages)
    lines = [[raw.strip(" \t\u3000\xa0") for raw in strip_pinyin(page.translate(INVISIBLE)).split("\n")] for page in pages]
    width = wrap_width([line for page in lines for line in page])
    paragraphs: list[_Paragraph] = []
    marks: list[tuple[int, int] | None] = []  # (paragraph, position in it) of each page's first character
    for n, page in enumerate(lines):
        mark = None
        for line in page:
            if not line:
                continue
            carried = mark is None and continues is not None and continues[n]
            if paragraphs and (carried or _continued_by(paragraphs[-1], line, width)):
                mark = mark or (len(paragraphs) - 1, paragraphs[-1].length)
                paragraphs[-1].add(line)
            else:
                mark = mark or (len(paragraphs), 0)
                paragraphs.append(_Paragraph(line))
        marks.append(mark)
    paragraphs, marks = _cut_long([p.text() for p in paragraphs], marks)
    starts, offset = [], 0
    for n, para in enumerate(paragraphs):
        joined = _join_han_spaces(para)
        for mark in marks:
            if mark is not None and mark[0] == n:
                starts.append((mark, offset + mark[1] - _dropped_before(para, mark[1])))
        paragraphs[n] = joined
        offset += len(joined) + 1
    text = "\n".join(paragraphs)
    found = dict(starts)
    page_starts, following = [], len(text)
    for mark in reversed(marks):
        following = found[mark] if mark is not None else following
        page_starts.append(following)
    return text, page_starts[::-1]


def _cut_long(paragraphs: list[str], marks: list) -> tuple[list[str], list]:
    """Paragraphs longer than LONG_PARAGRAPH cut at their inline headings (the spaces at a cut
    dropped), and the page marks moved to the paragraph and position they fall in."""
    out, where = [], {}  # where[n]: (first new paragraph, [(start, end) of each piece in the old one])
    for n, para in enumerate(paragraphs):
        pieces, start = [], 0
        if len(para) > LONG_PARAGRAPH:
            for m in INLINE_HEADING.finditer(para):
                pieces.append((start, m.start()))
                start = m.end()
                end = HEADING_END.match(para, start) if _numbered(para[start:]) else None
                if end:
                    pieces.append((start, end.start(1)))
                    start = end.end(1)
        pieces.append((start, len(para)))
        where[n] = (len(out), pieces)
        out += [para[a:b] for a, b in pieces]

    def moved(mark):
        if mark is None:
            return None
        first, pieces = where[mark[0]]
        k = next((k for k, (_, b) in enumerate(pieces) if mark[1] < b), len(pieces) - 1)
        return first + k, max(0, mark[1] - pieces[k][0])
    return out, [moved(m) for m in marks]


def wrap_width(lines: list[str]) -> int | None:
    """The width text copied out of a PDF was cut at, when it was: the commonest length of its
    lines, shared by WRAPPED_SHARE of those of 10 characters or more (a file of one paragraph a
    line has no such width: its lengths all differ)."""
    lengths = Counter(len(line) for line in lines if len(line) >= 10)
    total = sum(lengths.values())
    if total < 20:
        return None
    width, count = max(lengths.items(), key=lambda kv: (kv[1], kv[0]))
    return width if width >= 15 and count >= WRAPPED_SHARE * total else None


def _continued_by(paragraph: "_Paragraph", line: str, width: int | None) -> bool:
    """Whether `line` goes on with `paragraph`: after a line cut at the wrap width, anything but a
    numbered heading (a line as short as a heading is one more piece of the sentence); else after a
    paragraph broken mid-sentence, anything but a heading."""
    level = heading_level(line)
    if width and len(paragraph.last) >= WRAPPED_FILL * width and not LINE_ENDS_SENTENCE.search(paragraph.last):
        return level in (None, PLAIN_HEADING_LEVEL)
    return paragraph.broken() and level is None


class _Paragraph:
    """A paragraph being joined from lines, in parts: joining by `+=` copies the whole paragraph
    each time, which is quadratic on a long text that has no sentence ends."""

    HEAD = 1000  # characters of the start kept for the checks that look at the start

    def __init__(self, line: str):
        self.parts = [line]
        self.length = len(line)
        self.head = line[:self.HEAD]
        self.last = line
        self.clause = any(c in CLAUSE_MARKS for c in line)

    def add(self, line: str) -> None:
        self.parts.append(line)
        self.length += len(line)
        if len(self.head) < self.HEAD:
            self.head = (self.head + line)[:self.HEAD]
        self.last = line
        self.clause = self.clause or any(c in CLAUSE_MARKS for c in line)

    def text(self) -> str:
        return "".join(self.parts)

    def broken(self) -> bool:
        """_broken_after of the whole paragraph, from what is kept."""
        if self.last[-1] in TERMINAL or self.last[-1] in ")）*":
            return False
        if re.match(r"^\*\*[^*]+\*\*.", self.head):
            return True
        if self.length <= MAX_HEADING_CHARS:
            return _broken_after(self.text())
        return self.length >= 30 and self.clause


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
    """Running text scraped from print has stray spaces between characters ("总 书记", "增长 8%")."""
    return HAN_SPACE.sub("", line) if "。" in line else line


def _dropped_before(line: str, pos: int) -> int:
    """How many characters _join_han_spaces removes before position pos of line."""
    if "。" not in line:
        return 0
    return sum(min(m.end(), pos) - m.start() for m in HAN_SPACE.finditer(line) if m.start() < pos)


def heading_level(line: str) -> int | None:
    """The heading level of a paragraph that starts with a heading, else None."""
    if not line:
        return None
    for pattern, level in HEADINGS:
        m = pattern.match(line)
        if m:
            return len(m.group(1)) if level is None else level
    if len(line) <= MAX_HEADING_CHARS and line[-1] not in TERMINAL and "。" not in line:
        return PLAIN_HEADING_LEVEL
    return None


def _numbered(text: str) -> bool:
    """Whether text starts with a numbered heading's number (一、 （一） 1.)."""
    return any(pattern.match(text) for pattern, level in HEADINGS if level in (1, 2, 3))


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
