"""The small records that travel between pipeline stages."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


LAST_QUARTER = 10  # the month from which a report plans the next year
READ_SIMPLIFIED = ("speaker", "meeting", "place", "kind", "role")  # Document fields detected on simplified text


@dataclass
class Document:
    """One report: a whole file, or one report of a compilation file."""

    doc_id: str
    source: str  # path of the file it came from
    text: str  # cleaned text: what users see and what offsets point into
    title: str
    date: str | None = None  # ISO, possibly partial: "2016-12-28", "2016-12", "2016"
    speaker: str | None = None
    kind: str | None = None
    meeting: str | None = None
    place: str | None = None  # issuing place or body: "广东省", "杭州市拱墅区", "国务院", "中共中央"
    role: str | None = None  # the speaker's office as the text gives it: "广东省省长"
    # field → {"source": "date line" | "title" | "byline" | "meeting line" | "file properties" |
    # "file name" | "inferred" | "catalog" | "user", "confidence": 0..1}; absent when unknown
    provenance: dict[str, dict] = field(default_factory=dict)
    part: int = 1  # position of the report inside its file
    content_hash: str = ""  # sha256 of the source file's bytes
    pages: list[int] = field(default_factory=list)  # offset in text where each page starts; [] without pages
    first_page: int = 1  # number, in the file, of the page that pages[0] is
    page_ocr: list[float | None] = field(default_factory=list)  # per page of `pages`: OCR confidence, None: text layer

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None

    def shown(self, key: str) -> str | None:
        """A metadata value as the report would write it: the speaker, meeting, place, kind and
        role are read on simplified text (matching runs there), so a report in traditional
        characters (its title says) shows them converted back; a value a user set is shown as set."""
        from qa.normalize import is_traditional, to_traditional

        value = getattr(self, key)
        if (not value or key not in READ_SIMPLIFIED or self.provenance.get(key, {}).get("source") == "user"
                or not is_traditional(self.title)):
            return value
        return to_traditional(value)

    @property
    def plan_year(self) -> int | None:
        """The year the report looks ahead to: its own, or the next for one given in the last
        quarter (a year-end plenum or congress plans the coming year and reviews its own)."""
        year = self.year
        if year and len(self.date) >= 7 and self.date[5:7].isdigit() and int(self.date[5:7]) >= LAST_QUARTER:
            return year + 1
        return year

    def page_at(self, offset: int) -> int | None:
        """Number of the file page holding text[offset], or None for a format without pages."""
        if not self.pages:
            return None
        return self.first_page + max(0, bisect_right(self.pages, offset) - 1)

    def ocr_confidence(self, first: int | None, last: int | None) -> float | None:
        """Mean OCR confidence of the pages first..last that were read by OCR; None when none was."""
        if first is None or not self.page_ocr:
            return None
        found = [c for n, c in enumerate(self.page_ocr, start=self.first_page)
                 if first <= n <= (last or first) and c is not None]
        return round(sum(found) / len(found), 3) if found else None


@dataclass
class Passage:
    passage_id: str
    doc_id: str
    text: str
    start: int  # character offsets into Document.text
    end: int
    section: str = ""  # heading path, " > " separated
    page: int | None = None  # file page where the passage starts; None for formats without pages
    last_page: int | None = None  # file page where it ends
    ocr: float | None = None  # mean OCR confidence of its pages when they were scans read by OCR

    @property
    def page_label(self) -> str:
        """"第3页", "第3–4页" for a passage across two pages, "" for a format without pages."""
        if self.page is None:
            return ""
        if self.last_page and self.last_page != self.page:
            return f"第{self.page}–{self.last_page}页"
        return f"第{self.page}页"


@dataclass
class Hit:
    passage: Passage
    score: float
    scores: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Citation:
    n: int
    hit: Hit
    quote: str  # the cited sentence, verbatim from the passage


@dataclass
class Answer:
    question: str
    answer: str
    short_answer: str | None
    answerable: bool
    citations: list[Citation]
    hits: list[Hit]
    searched: str = ""  # the query actually sent to retrieval
    support: float = 0.0  # how much of the question the cited evidence covers (0..1)
    refusal: str = ""  # why the answer was refused, when it was
    confidence: float = 0.0  # the answerer's probability that the answer is right (calibrated)
    closest: Citation | None = None  # for a refusal: the best sentence found, which may not answer
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerer: str = "extractive"  # which answerer gave it (qa/answerers.py)
    claims: list = field(default_factory=list)  # qa.claims.Claim, each checked against its citations (llm)
    notice: str = ""  # one line for the user: why the language model's answer is not shown, …
