"""The reports of a loaded index, their full texts read from texts.jsonl when asked for.

A report's metadata (title, date, place, pages…) is small and needed for every question (filters,
the report bonus, the library); its cleaned text is large (about 0.8 GB a million passages) and
needed only to show the context of a cited passage or to chunk it again. So documents.jsonl holds
the metadata, one report a line, and texts.jsonl the texts, one JSON string a line in the same
order, mapped into memory like passages.jsonl (qa/passages.py) and parsed when a text is read.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

from qa.passages import close_line_file, file_lines, read_line
from qa.types import Document

TEXTS = "texts.jsonl"


class TextTable:
    """Line i of a texts.jsonl file: the text of the index's i-th document."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with self.path.open("rb") as f:
            size = f.seek(0, 2)
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._starts, self._ends = file_lines(self.path)

    def __len__(self) -> int:
        return len(self._starts)

    def raw(self, i: int) -> bytes:
        """Line i as stored, without its newline: copied as is when a build is written again."""
        return self._data[self._starts[i]:self._ends[i]]

    def line(self, i: int) -> bytes:
        """raw(i) read from the file, not through the mapping (qa.passages.PassageTable.line)."""
        return read_line(self, i)

    def __del__(self):
        close_line_file(self)

    def read(self, i: int) -> str:
        try:
            text = json.loads(self.raw(i))
            if not isinstance(text, str):
                raise TypeError(type(text).__name__)
            return text
        except (ValueError, TypeError) as exc:
            from qa.store import IndexUnusable

            raise IndexUnusable(f"index {self.path.parent} is damaged (text of document row {i}: "
                                f"{type(exc).__name__}): rebuild it with "
                                f"`qa ingest PATH --index {self.path.parent.parent} --rebuild`") from None


class StoredDocument(Document):
    """A Document of a loaded index: everything but its text is held; the text is read from the
    build's TextTable each time it is asked for (a report is a few tens of kB: parsing it costs
    less than keeping every report's text in memory), unless it was set."""

    def __init__(self, *args, table: TextTable | None = None, row: int = -1, **kwargs):
        self._table, self._row, self._text = table, row, None
        if len(args) < 3:  # loaded: no text given, it stays in the table
            kwargs.setdefault("text", None)
        super().__init__(*args, **kwargs)

    @property
    def text(self) -> str:
        if self._text is None and self._table is not None:
            return self._table.read(self._row)
        return self._text or ""

    @text.setter
    def text(self, value: str | None) -> None:
        self._text = value

    def stored_text(self) -> bytes | None:
        """The text's line in the build it was loaded from, unless the text was set since."""
        return self._table.line(self._row) if self._text is None and self._table is not None else None

    def __eq__(self, other):  # equal to a plain Document with the same fields, as dataclasses compare
        if not isinstance(other, Document):
            return NotImplemented
        return _fields(self) == _fields(other)

    __hash__ = None


def _fields(doc: Document) -> tuple:
    from dataclasses import fields

    return tuple(getattr(doc, f.name) for f in fields(Document))


def metadata_row(doc: Document) -> dict:
    """A document's fields for documents.jsonl: all but its text."""
    from dataclasses import fields

    return {f.name: getattr(doc, f.name) for f in fields(Document) if f.name != "text"}


def text_line(doc: Document) -> bytes:
    """A document's line of texts.jsonl, without the newline."""
    stored = doc.stored_text() if isinstance(doc, StoredDocument) else None
    return stored if stored is not None else json.dumps(doc.text, ensure_ascii=False).encode("utf-8")


def read(build: Path) -> dict[str, StoredDocument]:
    """The documents of a build, by id, their texts left in texts.jsonl."""
    table = TextTable(build / TEXTS)
    documents = {}
    with (build / "documents.jsonl").open(encoding="utf-8") as f:
        for row, line in enumerate(line for line in f if line.strip()):
            d = json.loads(line)
            d.pop("text", None)
            documents[d["doc_id"]] = StoredDocument(**d, table=table, row=row)
    if len(table) != len(documents):
        from qa.store import IndexUnusable

        raise IndexUnusable(f"index {build} is damaged ({len(documents)} documents, {len(table)} texts): "
                            f"rebuild it with `qa ingest PATH --index {build.parent} --rebuild`")
    return documents


def write(build: Path, documents) -> None:
    """documents.jsonl and texts.jsonl of a build, in the order of `documents` (a sequence)."""
    with (build / "documents.jsonl").open("w", encoding="utf-8") as meta, (build / TEXTS).open("wb") as texts:
        for doc in documents:
            meta.write(json.dumps(metadata_row(doc), ensure_ascii=False) + "\n")
            texts.write(text_line(doc) + b"\n")
