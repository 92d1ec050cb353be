"""The small records that travel between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    part: int = 1  # position of the report inside its file
    content_hash: str = ""  # sha256 of the source file's bytes

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None


@dataclass
class Passage:
    passage_id: str
    doc_id: str
    text: str
    start: int  # character offsets into Document.text
    end: int
    section: str = ""  # heading path, " > " separated


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
    timings_ms: dict[str, float] = field(default_factory=dict)
