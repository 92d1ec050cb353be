"""The passages of a loaded index, read from passages.jsonl when asked for, not all at load.

A question needs the texts of its top passages only. Holding every Passage of a big index as
Python objects costs gigabytes and seconds of JSON parsing at start; instead the file is mapped
into memory, the start of each line is found once (a numpy scan for newlines; JSON escapes every
newline inside a string, so each line is one passage), and a row is parsed when it is read.
The passage → document array and the FAISS ids come from .npy files beside it (store.py).
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.types import Passage

SCAN_BYTES = 1 << 26  # newline scan in slices of 64 MB: no temporary array of the whole file's size


def lines(data) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) byte offsets of each non-empty line of data, end excluding the newline."""
    size = len(data)
    return _rows([np.flatnonzero(np.frombuffer(data, np.uint8, count=min(SCAN_BYTES, size - at), offset=at) == 10) + at
                  for at in range(0, size, SCAN_BYTES)], size)


def file_lines(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """lines() of a file, read in slices rather than through its mapping: a scan through the
    mapping would leave every page of the file resident in the process (counted in its memory)
    although a question reads a few lines."""
    newlines, size = [], 0
    with Path(path).open("rb") as f:
        while block := f.read(SCAN_BYTES):
            newlines.append(np.flatnonzero(np.frombuffer(block, np.uint8) == 10) + size)
            size += len(block)
    return _rows(newlines, size)


def _rows(newlines: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    newlines = np.concatenate(newlines).astype(np.int64) if newlines else np.zeros(0, np.int64)
    starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
    ends = np.append(newlines, size).astype(np.int64)
    keep = ends > starts  # blank lines and the empty one after the last newline are no rows
    return starts[keep], ends[keep]


def read_line(table, i: int) -> bytes:
    """Line i of a table (PassageTable, qa.documents.TextTable) with pread, its file opened once."""
    if getattr(table, "_fd", None) is None:
        table._fd = os.open(table.path, os.O_RDONLY)
    start, end = int(table._starts[i]), int(table._ends[i])
    return os.pread(table._fd, end - start, start)


def close_line_file(table) -> None:
    if getattr(table, "_fd", None) is not None:
        os.close(table._fd)
        table._fd = None


def parse(line: bytes | str) -> Passage:
    row = json.loads(line)
    return Passage(**{k: v for k, v in row.items() if k != "key"})


class PassageTable(Sequence):
    """A read-only list of Passages backed by a passages.jsonl file; `doc_rows[i]` is the position,
    in the index's documents, of passage i's document."""

    def __init__(self, path: Path, doc_rows: np.ndarray):
        self.path = Path(path)
        self.doc_rows = doc_rows
        with self.path.open("rb") as f:
            size = f.seek(0, 2)
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._starts, self._ends = file_lines(self.path)

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"passage row {i} of {n}")
        return self.read(i)

    def raw(self, i: int) -> bytes:
        """Row i's line as stored, without its newline."""
        return self._data[self._starts[i]:self._ends[i]]

    def line(self, i: int) -> bytes:
        """raw(i) read from the file, not through the mapping: what a new build copies of every
        kept row (a million of them through the mapping would count a gigabyte as this process'
        memory)."""
        return read_line(self, i)

    def __del__(self):
        close_line_file(self)

    def read(self, i: int) -> Passage:
        line = self.raw(i)
        try:
            return parse(line)
        except (ValueError, TypeError) as exc:
            from qa.store import IndexUnusable

            raise IndexUnusable(f"index {self.path.parent} is damaged (passage row {i}: {type(exc).__name__}): "
                                f"rebuild it with `qa ingest PATH --index {self.path.parent.parent} --rebuild`") from None

    def __iter__(self):
        for i in range(len(self)):
            yield self.read(i)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    __hash__ = None


class Carried(Sequence):
    """The passages of a new build: rows of the previous build's table, kept as they are stored
    (an ingest that changes a few reports neither parses nor writes again the others'), then the
    new passages. `doc_rows[i]` is the position of passage i's document in the new build."""

    def __init__(self, table: PassageTable, rows: np.ndarray, new: Sequence[Passage], doc_rows: np.ndarray):
        self.table, self.rows, self.doc_rows = table, np.asarray(rows, dtype=np.int64), doc_rows
        self.new = new if isinstance(new, Spilled) else list(new)

    def __len__(self) -> int:
        return len(self.rows) + len(self.new)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = _row(i, len(self))
        return self.table.read(int(self.rows[i])) if i < len(self.rows) else self.new[i - len(self.rows)]

    def stored_line(self, i: int) -> bytes | None:
        """Passage i's line in the previous build, or as spilled (Spilled); None for a new passage
        held as a Passage."""
        if i < len(self.rows):
            return self.table.line(int(self.rows[i]))
        return self.new.stored_line(i - len(self.rows)) if isinstance(self.new, Spilled) else None

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    __hash__ = None


class LineFile:
    """Lines appended to a scratch file during an ingest, read back by number: new passages and
    report texts wait there, not in memory, until the build is written (a million passages are
    gigabytes as Python objects). Read with pread, not mapped (mapped pages would count as the
    process' memory), so threads may read at once once `finish` was called."""

    def __init__(self, path: Path):
        from array import array

        self.path = Path(path)
        self.file = open(self.path, "w+b")
        self.starts, self.ends = array("q"), array("q")
        self.size = 0

    def append(self, line: bytes) -> int:
        """Writes line (no newline in it) and returns its number."""
        self.file.write(line + b"\n")
        self.starts.append(self.size)
        self.ends.append(self.size + len(line))
        self.size += len(line) + 1
        return len(self.starts) - 1

    def finish(self) -> None:
        self.file.flush()

    def raw(self, i: int) -> bytes:
        return os.pread(self.file.fileno(), self.ends[i] - self.starts[i], self.starts[i])

    line = raw

    def read(self, i: int) -> str:
        return json.loads(self.raw(i))

    def close(self) -> None:
        self.file.close()


def _row(i, n: int) -> int:
    """Row i of n, counted from the end when negative; IndexError outside."""
    i = int(i) + (n if int(i) < 0 else 0)
    if not 0 <= i < n:
        raise IndexError(f"passage row {i} of {n}")
    return i


class Spilled(Sequence):
    """New passages of an ingest held in a LineFile as their passages.jsonl lines (with their keys):
    rows[i] is passage i's line, keys[i] its FAISS id, doc_rows[i] the position of its document in
    the new build. Parsed when read; written into the build as stored."""

    def __init__(self, lines: LineFile, rows: np.ndarray, keys: np.ndarray, doc_rows: np.ndarray):
        self.lines, self.rows, self.keys, self.doc_rows = lines, rows, keys, doc_rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = _row(i, len(self))
        return parse(self.lines.raw(int(self.rows[i])))

    def stored_line(self, i: int) -> bytes:
        return self.lines.raw(int(self.rows[i]))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    __hash__ = None
