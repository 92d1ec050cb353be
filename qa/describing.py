"""Stage 10a: the changed files of an ingest cleaned, described and chunked, their passages and
texts spilled to disk as they come (qa/ingest.py builds the index from them).

Files are read as the describing asks for them (qa.ingest._Reading), so their texts are not all
held at once; from POOL_FILES changed files a process per core describes batches of them, a few
batches in flight. Each described file's passages go to a scratch file as their passages.jsonl
lines and its documents' texts as their texts.jsonl lines (`Spill`): at a million passages those
are gigabytes as Python objects, and the build copies the lines as they are.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from qa import loading, overrides, store
from qa.chunking import chunk
from qa.cleaning import clean, clean_pages
from qa.config import Settings
from qa.documents import StoredDocument
from qa.ocr import LOW_CONFIDENCE
from qa.passages import LineFile, Spilled
from qa.reports import documents_from, load_catalog
from qa.tokens import MAX_PROCESSES
from qa.types import Document, Passage

POOL_FILES = 500  # changed files from which they are cleaned, described and chunked in a process per core
POOL_BATCH = 16  # files a worker describes at a time
POOL_AHEAD = 4  # batches in flight per worker: the files' texts waiting are a few hundred, not all


def describe_changed(changed, settings: Settings, old_hash: dict, spill: "Spill", report):
    """Describe and chunk each changed file (read as needed), its passages and texts spilled to
    disk as they come; returns ([(name, its documents, its spilled passages' lines)], old names of
    renamed files, skips to report after the reading's). One that fails is skipped and its old
    version kept."""
    catalogs: dict[Path, dict] = {}
    corrections = overrides.load(settings.index_dir)
    made, moved, catalog_skips, failed = [], set(), [], []

    def jobs():
        for source, name, renamed in changed:
            folder = source.path.parent
            if folder not in catalogs:
                catalogs[folder] = _by_file(_catalog(folder, catalog_skips))
            # the catalog entries of this file only: a big catalog is not sent with every file
            yield (source, name, catalogs[folder].get(Path(name).name, {}), corrections, settings), renamed

    for (source, name, _, _, _), renamed, described in _described(jobs()):
        for n, conf in enumerate((p.ocr for p in source.pages), start=1):
            if conf is not None and conf < LOW_CONFIDENCE:
                report.low_confidence.append((name, n, conf))
        if isinstance(described, str):  # one file that breaks a stage must not stop the others
            failed.append(loading.Skipped(source.path, f"could not be processed ({described})"))
            continue
        found, parts = described
        (report.updated if name in old_hash or renamed else report.added).append(name)
        if renamed:
            moved.add(renamed)
        made.append((name, *spill.add(found, parts)))
    spill.finish()
    return made, moved, catalog_skips + failed


def _by_file(catalog: dict) -> dict[str, dict]:
    """A catalog's entries grouped by file name (documents_from looks them up by (file, part))."""
    grouped: dict[str, dict] = {}
    for key, entry in catalog.items():
        grouped.setdefault(key[0], {})[key] = entry
    return grouped


def _described(jobs):
    """(job, renamed, _describe(job)) of each (job, renamed), in order, the jobs read as needed: in
    this process for a few files, else in a pool of processes, one per core (spawned: a worker
    needs no torch), a few batches of files in flight at a time."""
    import itertools

    processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    head = list(itertools.islice(jobs, POOL_FILES))
    if len(head) < POOL_FILES or processes < 2:
        for job, renamed in head:
            yield job, renamed, _describe(job)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    rest = itertools.chain(head, jobs)
    del head
    batches = iter(lambda: list(itertools.islice(rest, POOL_BATCH)), [])
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = deque((batch, pool.submit(_describe_all, [job for job, _ in batch]))
                        for batch in itertools.islice(batches, POOL_AHEAD * processes))
        while pending:
            batch, future = pending.popleft()
            results = future.result()
            following = next(batches, None)
            if following is not None:
                pending.append((following, pool.submit(_describe_all, [job for job, _ in following])))
            for (job, renamed), described in zip(batch, results):
                yield job, renamed, described


def _describe_all(jobs: list[tuple]) -> list:
    return [_describe(job) for job in jobs]


class Spill:
    """New passages and the texts of new documents, written to scratch files in the ingest's temp
    folder as files are described (qa.passages.LineFile): the passages as their passages.jsonl
    lines, the documents' texts as their texts.jsonl lines (the documents kept are StoredDocuments
    that read them from there)."""

    def __init__(self, tmp: Path):
        from array import array

        self.passage_lines, self.text_lines = LineFile(tmp / "new-passages.jsonl"), LineFile(tmp / "new-texts.jsonl")
        self.keys, self.doc_of = array("q"), array("q")  # each spilled passage's FAISS id, and document (doc_ids)
        self.doc_ids: list[str] = []

    def add(self, found: list[Document], parts: list[Passage]) -> tuple[list[Document], tuple[int, int]]:
        """(the documents, their texts spilled; the first and last+1 line of their passages)."""
        from dataclasses import fields

        docs, number = [], {}
        for doc in found:
            row = self.text_lines.append(json.dumps(doc.text, ensure_ascii=False).encode("utf-8"))
            docs.append(StoredDocument(**{f.name: getattr(doc, f.name) for f in fields(Document) if f.name != "text"},
                                       table=self.text_lines, row=row))
            number[doc.doc_id] = len(self.doc_ids)
            self.doc_ids.append(doc.doc_id)
        first = len(self.keys)
        for p in parts:
            key = store.passage_key(p.passage_id)
            self.passage_lines.append(store.passage_line(p, key))
            self.keys.append(key)
            self.doc_of.append(number[p.doc_id])
        return docs, (first, len(self.keys))

    def finish(self) -> None:
        self.passage_lines.finish()
        self.text_lines.finish()

    def passages(self, included: list[tuple[int, int]], documents: dict) -> Spilled:
        """The spilled passages of these line ranges, their documents' rows in `documents`."""
        rows = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in included]) if included \
            else np.zeros(0, np.int64)
        position = {doc_id: n for n, doc_id in enumerate(documents)}
        doc_rows = np.array([position.get(d, -1) for d in self.doc_ids], dtype=np.int64)
        keys, doc_of = np.frombuffer(self.keys, np.int64), np.frombuffer(self.doc_of, np.int64)
        return Spilled(self.passage_lines, rows, keys[rows] if len(keys) else np.zeros(0, np.int64),
                       doc_rows[doc_of[rows]] if len(doc_of) else np.zeros(0, np.int64))

    def close(self) -> None:
        self.passage_lines.close()
        self.text_lines.close()


def _describe(job: tuple):
    """(documents, passages) of one read file, or why it could not be processed."""
    source, name, catalog, corrections, settings = job
    try:
        return _documents(source, name, catalog, corrections, settings)
    except Exception as exc:  # noqa: BLE001 - reported for this file, the others go on
        return f"{type(exc).__name__}: {str(exc)[:120]}"


def _documents(source: loading.SourceFile, name: str, catalog: dict, corrections: dict, settings: Settings):
    """The documents of one read file, and their passages."""
    if source.pages:
        text, page_starts = clean_pages([p.text for p in source.pages], [p.continues for p in source.pages])
    else:
        text, page_starts = clean(source.text), None
    if not text.strip():
        return "no report text: all of it is page noise (menus, footers, licence lines)"
    found = documents_from(name, text, source.content_hash, catalog, page_starts, source.properties,
                           [p.ocr for p in source.pages])
    overrides.apply(found, corrections)
    passages = [p for doc in found for p in chunk(doc, settings.chunk_size, settings.chunk_overlap)]
    return found, passages


def _catalog(folder: Path, skipped: list) -> dict:
    try:
        return load_catalog(folder / "catalog.json")
    except (ValueError, OSError) as exc:
        skipped.append(loading.Skipped(folder / "catalog.json", f"{str(exc).split(': ', 1)[-1]}; the files "
                                       f"beside it were ingested without it"))
        return {}
