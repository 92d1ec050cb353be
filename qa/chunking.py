"""Stage 4: cut a document into passages along sentences and headings.

Sizes are in characters. A passage never crosses a heading or a document; it carries the heading
path it sits under and its character offsets in the document's cleaned text, so a citation can
point at the exact place.
"""

from __future__ import annotations

import hashlib
import re

from qa.cleaning import MAX_HEADING_CHARS, heading_level, heading_text
from qa.types import Document, Passage

# A sentence ends at 。！？；… (or their ASCII forms), together with closing quotes and brackets.
SENTENCE_END = re.compile(r"(?:[。！？；!?;]|…{1,2}|\.{3})[”’」』）)\]]*")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of text[start:end], split at sentence punctuation and line breaks."""
    end = len(text) if end is None else end
    spans = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        s0 = start + line.start()
        pos = s0
        for m in SENTENCE_END.finditer(line.group()):
            cut = s0 + m.end()
            spans.append((pos, cut))
            pos = cut
        if pos < start + line.end():
            spans.append((pos, start + line.end()))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def passage_id(doc_id: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{doc_id}:{start}-{end}:{digest}"


def chunk(doc: Document, size: int = 400, overlap: int = 1) -> list[Passage]:
    """Passages of about `size` characters; `overlap` sentences are repeated at a passage's start."""
    text = doc.text
    passages: list[Passage] = []
    path: list[tuple[int, str]] = []  # heading stack: (level, label)
    current: list[tuple[int, int]] = []  # sentence spans of the passage being built
    section = ""
    has_body = False  # whether `current` holds more than heading lines

    def flush(keep: int = 0) -> None:
        nonlocal current, has_body
        if current:
            a, b = current[0][0], current[-1][1]
            first, last = doc.page_at(a), doc.page_at(b - 1)
            passages.append(Passage(passage_id(doc.doc_id, a, b, text[a:b]), doc.doc_id,
                                    text[a:b], a, b, section, first, last, doc.ocr_confidence(first, last)))
        current = current[-keep:] if keep and len(current) > keep else []
        has_body = bool(current)

    offset = 0
    for para in text.split("\n"):
        p_start, p_end = offset, offset + len(para)
        offset = p_end + 1
        if not para.strip():
            continue
        level = heading_level(para)
        if level is not None:
            if has_body:  # consecutive headings stay together with the text under them
                flush()
            path = [(lv, lab) for lv, lab in path if lv < level] + [(level, heading_text(para))]
        if not has_body:
            section = " > ".join(label for _, label in path)
        # a lead-in paragraph ("1. 坚持….先后…") is a heading and body text at once
        has_body = has_body or level is None or len(para) > MAX_HEADING_CHARS
        for a, b in _bounded(sentence_spans(text, p_start, p_end), size):
            if current and b - current[0][0] > size:
                flush(keep=overlap)
                if current and b - current[0][0] > size:  # the overlap alone leaves no room
                    current = []
                section = " > ".join(label for _, label in path)
            current.append((a, b))
    flush()
    return passages


def _bounded(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Cut sentences longer than `size` (text with no punctuation at all) into size-long pieces."""
    out = []
    for a, b in spans:
        while b - a > size:
            out.append((a, a + size))
            a += size
        out.append((a, b))
    return out
