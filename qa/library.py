"""The app's live index: the assistant in use, and adding uploaded files to it while it serves.

An upload is saved under `<index dir>/uploads/` with a cleaned name, ingested into a new build,
and the freshly loaded assistant replaces the old one under a lock. A question in flight keeps the
assistant it started with, so nobody waits for an ingest.

An upload never costs what is already indexed: it holds the index's write lock (a CLI ingest
waits for it, or it for the ingest), a file it replaces is set aside and put back when the ingest
fails, and a file that cannot be ingested is removed from uploads/ (so it is not parsed again at
every later upload) with the previous version, if any, back in its place.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qa import loading, store
from qa.config import Settings

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_NAME_CHARS = 80
UNSAFE = re.compile(r"[^\w.\-（）()]+")
NOT_READ = ("another file has the name", "the same file as")  # ingest's reasons for files it did not read


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
        from qa import overrides

        with self._ingesting, store.writer_lock(self.settings.index_dir):
            if store.current_build(self.settings.index_dir) != self.assistant.index.folder:
                fresh = self._load()  # another process ingested since: correct its build, not ours
                with self._swap:
                    self._assistant = fresh
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
        with self._ingesting, store.writer_lock(self.settings.index_dir):
            root = Path(self.settings.index_dir)
            stage = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))  # removed by the next writer if killed
            try:
                staged = self._stage(files, stage, result)
                if not staged:
                    return result
                step(0.1, "ingest")
                placed = self._place(staged, stage / "replaced")
                try:
                    result.report = ingest([self.uploads], self.settings, progress=True)
                except BaseException:
                    self._restore(placed)
                    raise
                skipped = {s.path.resolve(): s.reason for s in result.report.skipped}
                taken, failed = [], []
                for target, backup in placed:
                    (failed if target.resolve() in skipped else taken).append((target, backup))
                self._restore(failed)  # not parsed again at every later upload; the old version is back
                result.saved = [target for target, _ in taken]
                result.refused += [f"{target.name}: {skipped[target.resolve()]}" for target, _ in failed]
                step(0.8, "load")
                fresh = self._load()
                self._forget_unreadable(skipped, set(fresh.index.manifest.documents))
                with self._swap:
                    self._assistant = fresh
                self.updated = time.strftime("%Y-%m-%d %H:%M:%S")
            finally:
                shutil.rmtree(stage, ignore_errors=True)
        step(1.0, "done")
        return result

    def _stage(self, files, stage: Path, result: AddResult) -> list[Path]:
        """Copy the uploads into the staging folder under safe names; refuse names that collide."""
        staged: dict[str, Path] = {}
        stems: dict[str, str] = {}
        for src, name in files:
            try:
                clean = safe_name(name)
                if clean in staged or Path(clean).stem in stems:
                    raise UploadError(f"{name}: its cleaned name {clean} is the same as that of "
                                      f"{stems[Path(clean).stem]} in this upload; rename one")
                clash = self._stem_clash(clean)
                if clash:
                    raise UploadError(f"{name}: {clash} is already in the library under the same name; "
                                      f"upload it as {clash} to replace it, or rename it")
                staged[clean] = save_upload(Path(src), clean, stage)
                stems[Path(clean).stem] = name
            except (UploadError, OSError) as exc:
                result.refused.append(str(exc))
        return list(staged.values())

    def _stem_clash(self, clean: str) -> str | None:
        """Another uploaded file with this name but another suffix ("a.md" beside "a.txt")."""
        if not self.uploads.is_dir():
            return None
        stem = Path(clean).stem
        return next((p.name for p in self.uploads.iterdir() if p.stem == stem and p.name != clean), None)

    def _place(self, staged: list[Path], aside: Path) -> list[tuple[Path, Path | None]]:
        """Move staged files into uploads/; a file they replace is moved aside, not deleted."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        aside.mkdir(exist_ok=True)
        placed = []
        for path in staged:
            target = self.uploads / path.name
            backup = None
            if target.exists():
                backup = aside / path.name
                os.replace(target, backup)
            os.replace(path, target)
            placed.append((target, backup))
        return placed

    @staticmethod
    def _restore(placed: list[tuple[Path, Path | None]]) -> None:
        for target, backup in placed:
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)

    def _forget_unreadable(self, skipped: dict[Path, str], indexed: set[str]) -> None:
        """Files left in uploads/ by older versions that were never ingested are removed too."""
        from qa.ingest import source_name

        for path, reason in skipped.items():
            if reason.startswith(NOT_READ):
                continue  # skipped for its name, not read: nothing is parsed again, and it may be a copy's
            if path.parent == self.uploads.resolve() and path.is_file() \
                    and source_name(path, self.settings.index_dir) not in indexed:
                path.unlink(missing_ok=True)

