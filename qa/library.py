"""The app's live index: the assistant in use, and adding uploaded files to it while it serves.

An upload is saved under `<index dir>/uploads/` with a cleaned name, ingested into a new build,
and the freshly loaded assistant replaces the old one under a lock. A question in flight keeps the
assistant it started with, so nobody waits for an ingest.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qa import loading
from qa.config import Settings

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_NAME_CHARS = 80
UNSAFE = re.compile(r"[^\w.\-（）()]+")


class UploadError(ValueError):
    """An upload is refused; the message says why, in one line."""


def safe_name(name: str, suffixes: tuple[str, ...] | None = None) -> str:
    """A file name that stays inside the upload folder: no folders, no leading dots, no odd
    characters, a supported suffix. Raises UploadError when nothing usable is left."""
    suffixes = loading.SUFFIXES if suffixes is None else suffixes
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in suffixes:
        raise UploadError(f"unsupported file type {suffix or '(none)'} in {base!r}: supported are {', '.join(suffixes)}")
    stem = UNSAFE.sub("_", stem).strip("._- ")[:MAX_NAME_CHARS]
    if not stem:
        raise UploadError(f"the file name {base!r} has no usable characters; rename the file")
    return stem + suffix


def save_upload(src: Path, name: str, folder: Path, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Copy an uploaded temp file into folder under a safe version of name."""
    clean = safe_name(name)
    size = Path(src).stat().st_size
    if size > max_bytes:
        raise UploadError(f"{clean} is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes / 1024 / 1024:.0f} MB")
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / clean).resolve()
    if target.parent != folder.resolve():  # cannot happen after safe_name; checked because it matters
        raise UploadError(f"refusing to write outside {folder}")
    shutil.copyfile(src, target)
    return target


@dataclass
class AddResult:
    saved: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one line per file that was not taken
    report: object = None  # qa.ingest.IngestReport, when an ingest ran


class Library:
    """Holds the assistant in use; `add` ingests uploads and swaps in a new one."""

    def __init__(self, settings: Settings, assistant=None):
        self.settings = settings
        self.uploads = Path(settings.index_dir) / "uploads"
        self._swap = threading.Lock()
        self._ingesting = threading.Lock()  # one ingest at a time; questions never take it
        self._assistant = assistant if assistant is not None else self._load()
        self.updated = time.strftime("%Y-%m-%d %H:%M:%S")

    def _load(self):
        from qa.pipeline import Assistant

        return Assistant(self.settings)

    @property
    def assistant(self):
        with self._swap:
            return self._assistant

    def correct(self, doc_id: str, fields: dict[str, str]):
        """Correct a document's metadata (the 文档 tab's edit): written to overrides.json like
        `qa docs set`, then the index is loaded again so retrieval sees the new year or place."""
        from qa import overrides, store

        with self._ingesting:
            index = self.assistant.index
            if doc_id not in index.documents:
                raise ValueError(f"unknown document id {doc_id!r}")
            fresh_doc = index.documents[doc_id]
            overrides.set_fields(Path(self.settings.index_dir), fresh_doc, fields)
            store.save_documents(index)
            fresh = self._load()
            with self._swap:
                self._assistant = fresh
            self.updated = time.strftime("%Y-%m-%d %H:%M:%S")
            return fresh.index.documents[doc_id]

    def add(self, files: list[tuple[Path, str]], progress=None) -> AddResult:
        """Save and ingest uploaded (temp path, original name) pairs; progress(fraction, text)."""
        from qa.ingest import ingest

        step = progress or (lambda *a, **k: None)
        result = AddResult()
        for src, name in files:
            try:
                result.saved.append(save_upload(Path(src), name, self.uploads))
            except (UploadError, OSError) as exc:
                result.refused.append(str(exc))
        if not result.saved:
            return result
        with self._ingesting:
            step(0.1, "ingest")
            try:
                result.report = ingest([self.uploads], self.settings, progress=True)
            except Exception:
                for path in result.saved:  # a file that cannot be ingested must not break the next upload
                    path.unlink(missing_ok=True)
                raise
            step(0.8, "load")
            fresh = self._load()
            with self._swap:
                self._assistant = fresh
            self.updated = time.strftime("%Y-%m-%d %H:%M:%S")
        step(1.0, "done")
        result.refused += [f"{s.path.name}: {s.reason}" for s in result.report.skipped]
        return result
