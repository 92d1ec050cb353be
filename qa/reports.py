"""Find the reports inside a cleaned file and describe each one (title, date, speaker, meeting).

A compilation file holds several reports, each opened by a block like

    实施四大战略推进五区建设 为建成运河沿岸名区而努力奋斗      ← title
    ——在中国共产党杭州市拱墅区第七次代表大会上的报告          ← meeting line
    (2016年12月28日)                                           ← date line
    朱建明                                                     ← speaker

or, in national and provincial compilations, by

    政府工作报告                                                ← title
    ——2025年1月15日在广东省第十四届人民代表大会第三次会议上    ← meeting line carrying the date

Each report becomes its own Document, described by qa.metadata. A catalog
(data/corpus/catalog.json) and the user's overrides (qa.overrides) may correct what is detected.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from qa.cleaning import heading_level, heading_text
from qa.metadata import detect
from qa.types import Document

DATE_LINE = re.compile(r"^[（(]\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*[)）]$")
MEETING_LINE = re.compile(r"^(?:——|—|-{1,2})?\s*在(.{2,50}?(?:会议|大会|全会|会))上(?:的(?:报告|讲话))?$")
# "——2025年1月15日在…会议上", "——2025年1月14日海南省省长 刘小明在…会议上的讲话",
# "2025年1月14日在…会议上北京市市长 殷勇同志作政府工作报告。"
DATED_MEETING_LINE = re.compile(r"^(?:——|—|-{1,2})?\s*(\d{4})年(\d{1,2})月(\d{1,2})日[^。，,]{0,30}?在([^。，,]{2,50}?"
                                r"(?:会议|大会|全会))上(?:的(?:报告|讲话))?(?:[^。，,]{0,30}作[^。，,]{0,12}报告。?)?$")
FIELDS = ("title", "date", "speaker", "kind", "meeting", "place")
SPEAKER_LINE = re.compile(r"^[\u4e00-\u9fff](?: ?[\u4e00-\u9fff]){1,3}$")
MAX_TITLE_CHARS = 60


@dataclass
class ReportHead:
    start: int  # paragraph index where the report starts
    title: str
    date: str | None
    meeting: str | None
    speaker: str | None


def split_reports(text: str) -> list[tuple[str, ReportHead]]:
    """Split cleaned text into (report text, head) pairs; a file without report heads is one report."""
    paras = text.split("\n")
    heads = [h for i in range(len(paras)) if (h := _head_at(paras, i))]
    if not heads:
        return [(text, ReportHead(0, _first_title(paras), None, None, None))]
    heads[0].start = 0  # a front page before the first report stays with it
    bounds = [h.start for h in heads] + [len(paras)]
    return [("\n".join(paras[bounds[n]:bounds[n + 1]]), head) for n, head in enumerate(heads)]


def _head_at(paras: list[str], i: int) -> ReportHead | None:
    """A report head whose date line (or meeting line with its date) is paragraph i."""
    m = DATE_LINE.match(paras[i])
    dm = DATED_MEETING_LINE.match(paras[i])
    if dm and i > 0 and _title_like(paras[i - 1]):
        date = f"{dm.group(1)}-{int(dm.group(2)):02d}-{int(dm.group(3)):02d}"
        return ReportHead(i - 1, paras[i - 1].strip(), date, dm.group(4), None)
    if not m:
        return None
    date = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    start, meeting = i, None
    if i > 0 and (mm := MEETING_LINE.match(paras[i - 1])):
        meeting, start = mm.group(1), i - 1
    if start > 0 and _title_like(paras[start - 1]):
        start -= 1
    title = paras[start] if start < i and not MEETING_LINE.match(paras[start]) else (meeting or "")
    after = paras[i + 1] if i + 1 < len(paras) else ""
    speaker = after.replace(" ", "") if SPEAKER_LINE.match(after) else None
    return ReportHead(start, title.strip(), date, meeting, speaker)


def _title_like(line: str) -> bool:
    return len(line) <= MAX_TITLE_CHARS and line[-1] not in "。；！？，,"


def _first_title(paras: list[str]) -> str:
    for p in paras:
        if heading_level(p) is not None:
            return heading_text(p)
    return paras[0][:MAX_TITLE_CHARS] if paras else ""


def load_catalog(path: Path) -> dict[tuple[str, int], dict]:
    """Catalog entries keyed by (file name, part)."""
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["documents"]
        return {(e["file"], int(e.get("part", 1))): e for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid catalog ({exc}); expected "
                         '{"documents": [{"file": ..., "part": 1, "title": ...}]}') from None


def documents_from(source: str, text: str, content_hash: str, catalog: dict,
                   page_starts: list[int] | None = None, properties: dict | None = None,
                   page_ocr: list[float | None] | None = None) -> list[Document]:
    """Split one cleaned file into Documents, with catalog facts overriding detected ones.

    `page_starts` are the offsets in `text` where the file's pages start (see cleaning.clean_pages);
    `properties` the file's own title and subject (PDF, Word), used for a file of one report;
    `page_ocr` each page's OCR confidence (None for a page read from its text layer).
    """
    name = Path(source).name
    reports = split_reports(text)
    docs = []
    base = 0  # offset of the report's text in the file's text
    for part, (body, head) in enumerate(reports, start=1):
        stem = Path(source).stem
        meta = detect(body, name, head.title if head.date else None, properties if len(reports) == 1 else None)
        doc = Document(
            doc_id=stem if len(reports) == 1 else f"{stem}#{part}",
            source=source, text=body, title=meta.title or stem, date=meta.date,
            speaker=meta.speaker, kind=meta.kind, meeting=meta.meeting, place=meta.place, role=meta.role,
            provenance=dict(meta.provenance), part=part, content_hash=content_hash,
        )
        if not meta.title:  # a text that states no title is shown by its file name, not a section heading
            doc.provenance["title"] = {"source": "file name", "confidence": 0.2}
        if page_starts:
            first = max(0, bisect_right(page_starts, base) - 1)
            doc.first_page = first + 1
            doc.pages = [max(0, s - base) for s in page_starts[first:] if s <= base + len(body)]
            if page_ocr and any(c is not None for c in page_ocr[first:first + len(doc.pages)]):
                doc.page_ocr = list(page_ocr[first:first + len(doc.pages)])
        base += len(body) + 1
        apply_facts(doc, catalog.get((name, part), {}), "catalog")
        docs.append(doc)
    return docs


def apply_facts(doc: Document, facts: dict, source: str) -> None:
    """Set the given non-empty fields of a document, recording where they came from."""
    for key, value in facts.items():
        if key in FIELDS and value:
            setattr(doc, key, value)
            doc.provenance[key] = {"source": source, "confidence": 1.0}
