"""Stage 6: the index folder on disk, written atomically and refused when it does not match.

    index/
      CURRENT              name of the build in use; replaced atomically (os.replace)
      build-<time>/
        manifest.json      format version, embedding model and dimension, chunk settings,
                           fusion weight, per-document content hashes
        documents.jsonl    one document per line, its metadata (and where each value came from);
                           older builds without place/provenance load too
        texts.jsonl        the cleaned text of each document, one JSON string per line in the
                           order of documents.jsonl, read on demand (qa/documents.py)
      overrides.json       the user's metadata corrections, kept across builds (qa/overrides.py)
      ocr-cache/           OCR results per page image, JSON, kept across builds (qa/ocr.py)
        passages.jsonl     one passage per line, read on demand (qa/passages.py)
        passage_ids.npy    int64 FAISS id of each passage row
        passage_docs.npy   int32 position, in documents.jsonl, of each passage's document
        dense.faiss        IndexIDMap2(IndexFlatIP) over normalised vectors
        bm25/              bm25s arrays (.npy, no pickles) and vocabulary (.json)
        embedder/          the corpus-trained model, when the fallback is in use

A failed or interrupted ingest leaves CURRENT pointing at the previous, complete build. Every file
of a build is fsynced before CURRENT is switched to it, and CURRENT itself after.

Writers (ingest, an upload, a metadata correction) hold `LOCK` (fcntl.flock) for their whole run, so
a second writer waits for the first and then builds on its result, instead of overwriting it. The
holder of the lock also removes what a killed writer left: `.build-*.partial` folders, builds that
CURRENT does not name, temp files and folders (`clean_leftovers`). Readers take no lock: `load`
resolves CURRENT again when the build it was reading is replaced under it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from qa import documents as stored_documents
from qa import overrides
from qa.lexical import BM25
from qa.passages import PassageTable
from qa.types import Document, Passage

# 2: passage_ids.npy and passage_docs.npy beside passages.jsonl, which is read on demand (qa/passages.py)
# 3: the documents' texts apart from their metadata, in texts.jsonl, read on demand (qa/documents.py)
# 4: passages without the spaces between Chinese characters and numbers ("增长 8%" → "增长8%", qa/cleaning.py),
#    and the abbreviations of qa.normalize.SPELLED_OUT spelled out in the search tokens (qa/lexical.py)
FORMAT_VERSION = 4
LOCK_NAME = "LOCK"
LOCK_TIMEOUT = 600.0  # seconds a writer waits for another one ($QA_LOCK_TIMEOUT)
TEMP_PREFIX = ".tmp-"  # temp folders of a writer, inside the index folder so that the next one removes them
LOAD_TRIES = 5


class IndexUnusable(Exception):
    """The index folder is missing, damaged or incompatible; the message says what to do."""


class OlderFormat(IndexUnusable):
    """An index written by an earlier version of the program. Readers say to rebuild it; ingest
    rebuilds it from the files it records (`recorded_sources`) and the ones it is given."""

    def __init__(self, message: str, build: Path):
        super().__init__(message)
        self.build = build


def recorded_sources(build: Path) -> list[str]:
    """The files an index build was made from, as recorded (qa.ingest.source_name), as far as its
    documents.jsonl can still be read."""
    sources = []
    try:
        with (build / "documents.jsonl").open(encoding="utf-8") as f:
            for line in f:
                try:
                    source = json.loads(line).get("source")
                except (ValueError, AttributeError):
                    continue
                if source:
                    sources.append(source)
    except OSError:
        pass
    return list(dict.fromkeys(sources))


class IndexBusy(RuntimeError):
    """Another process is writing the index and did not finish within the timeout."""


@dataclass
class Manifest:
    embed_model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    dense_weight: float
    documents: dict[str, str] = field(default_factory=dict)  # source path → content hash
    format_version: int = FORMAT_VERSION
    created: str = ""
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Index:
    manifest: Manifest
    documents: dict[str, Document]
    passages: list[Passage]  # or, loaded, a PassageTable: the same Passages read on demand
    ids: np.ndarray  # int64 FAISS id of each passage row
    dense: object  # faiss.IndexIDMap2
    bm25: BM25
    folder: Path | None = None

    def doc_rows(self) -> np.ndarray:
        """For each passage row, the position of its document in `documents`."""
        rows = getattr(self.passages, "doc_rows", None)
        if rows is not None:
            return rows
        position = {doc_id: n for n, doc_id in enumerate(self.documents)}
        return np.array([position[p.doc_id] for p in self.passages], dtype=np.int64)

    def vectors(self) -> np.ndarray:
        return np.vstack([self.dense.reconstruct(int(i)) for i in self.ids]) if len(self.ids) \
            else np.zeros((0, self.manifest.dim), np.float32)


def passage_key(passage_id: str) -> int:
    """A stable non-negative int64 FAISS id derived from the passage id."""
    import hashlib

    return int.from_bytes(hashlib.sha256(passage_id.encode()).digest()[:8], "big") >> 1


def new_dense(dim: int):
    from qa.dense import new_dense as new

    return new(dim)


def current_build(root: Path) -> Path | None:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return None
    build = root / pointer.read_text().strip()
    return build if build.is_dir() else None


# One build read at a time in a process: numpy reads each .npy header with ast.literal_eval, and
# CPython 3.11 can fail when two threads build syntax trees at once (SystemError "AST constructor
# recursion depth mismatch", seen once in tests/test_reliability.py with readers in threads).
_READING = threading.Lock()


def load(root: Path, expect_model: str | None = None) -> Index:
    """The build CURRENT names. A writer may replace and remove that build while it is read; then
    CURRENT names a newer one, which is read instead."""
    for attempt in range(LOAD_TRIES):
        build = current_build(root)
        try:
            return _load_build(root, build, expect_model)
        except (FileNotFoundError, IndexUnusable) as exc:
            if attempt + 1 < LOAD_TRIES and current_build(root) != build:
                continue  # swapped away while it was read
            if isinstance(exc, FileNotFoundError):
                missing = Path(exc.filename or "").name or "a file"
                raise IndexUnusable(f"index {build} is damaged ({missing} is missing): rebuild it with "
                                    f"`qa ingest PATH --index {root} --rebuild`") from None
            raise
    raise AssertionError("unreachable")


def _load_build(root: Path, build: Path | None, expect_model: str | None) -> Index:
    if build is None:
        raise IndexUnusable(f"no index in {root}: build one with `qa ingest data/corpus --index {root}`")
    try:
        raw = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"index {build} has no readable manifest ({exc}): rebuild it with "
                          f"`qa ingest PATH --index {root} --rebuild`") from None
    if not isinstance(raw, dict) or raw.get("format_version") != FORMAT_VERSION:
        version = raw.get("format_version") if isinstance(raw, dict) else None
        message = (f"index {root} has format version {version}, this program reads version {FORMAT_VERSION}: "
                   f"rebuild it with `qa ingest PATH --index {root} --rebuild`")
        if isinstance(version, int) and version < FORMAT_VERSION:
            raise OlderFormat(message, build)
        raise IndexUnusable(message)
    try:
        with _READING:
            index = _read_build(root, build, raw, expect_model)
    except (FileNotFoundError, IndexUnusable):
        raise
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError, IndexError) as exc:
        # a truncated or hand-edited file fails in json, faiss, numpy or a dataclass, many ways
        what = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = f"{type(exc).__name__}: {what[:80]}{'…' if len(what) > 80 else ''}" if what else type(exc).__name__
        raise IndexUnusable(f"index {build} is damaged ({what}): rebuild it with "
                          f"`qa ingest PATH --index {root} --rebuild`") from None
    overrides.apply(index.documents.values(), overrides.load(root))
    return index


def _read_build(root: Path, build: Path, raw: dict, expect_model: str | None) -> Index:
    import faiss

    manifest = Manifest(**raw)
    if expect_model and expect_model != manifest.embed_model:
        raise IndexUnusable(f"index {root} was built with embedding model {manifest.embed_model}, not "
                          f"{expect_model}: rebuild it with `qa ingest PATH --index {root} --rebuild "
                          f"--embed-model {expect_model}`, or drop --embed-model to use the index's model")
    documents = stored_documents.read(build)
    ids = np.load(build / "passage_ids.npy", allow_pickle=False).astype(np.int64, copy=False)
    doc_rows = np.load(build / "passage_docs.npy", allow_pickle=False).astype(np.int64)
    passages = PassageTable(build / "passages.jsonl", doc_rows)
    if not (build / "dense.faiss").is_file():
        raise FileNotFoundError(errno.ENOENT, "no such file", str(build / "dense.faiss"))
    dense = faiss.read_index(str(build / "dense.faiss"))
    if (dense.d != manifest.dim or not dense.ntotal == len(passages) == len(ids) == len(doc_rows)
            or (len(doc_rows) and not 0 <= doc_rows.min() <= doc_rows.max() < len(documents))):
        raise IndexUnusable(f"index {build} is damaged (vectors do not match passages): rebuild it with "
                          f"`qa ingest PATH --index {root} --rebuild`")
    if len(passages):  # a damaged first or last row now, not at the first question that reads it
        passages.read(0), passages.read(len(passages) - 1)
    return Index(manifest, documents, passages, ids, dense, BM25.load(build / "bm25"), build)


def save(root: Path, index: Index, embedder_dir: Path | None = None) -> Path:
    """Write a new build next to the current one, then switch CURRENT to it atomically."""
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = root / f".{name}.partial"
    tmp.mkdir()
    try:
        _write_build(tmp, index, embedder_dir, faiss)
        _fsync_tree(tmp)
        os.replace(tmp, root / name)
        _fsync_dir(root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, shutil.Error):  # its message is a list of (source, target, error) tuples
            first = exc.args[0][0] if exc.args and exc.args[0] else ("", "", str(exc))
            raise OSError(f"cannot write the index in {root}: {first[2]}") from None
        raise
    previous = current_build(root)
    pointer_tmp = root / f".CURRENT.{os.getpid()}"
    with pointer_tmp.open("w", encoding="utf-8") as f:
        f.write(name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, root / "CURRENT")
    _fsync_dir(root)
    if previous is not None and previous.name != name:
        shutil.rmtree(previous, ignore_errors=True)
    index.folder = root / name
    return root / name


def _write_build(tmp: Path, index: Index, embedder_dir: Path | None, faiss) -> None:
    index.manifest.created = time.strftime("%Y-%m-%dT%H:%M:%S")
    index.manifest.counts = {"documents": len(index.documents), "passages": len(index.passages)}
    (tmp / "manifest.json").write_text(json.dumps(asdict(index.manifest), ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    stored_documents.write(tmp, index.documents.values())
    stored = getattr(index.passages, "stored_line", lambda i: None)  # a carried passage's line as it was
    with (tmp / "passages.jsonl").open("wb") as f:
        for i, key in enumerate(index.ids.tolist()):
            line = stored(i)
            f.write((line if line is not None else passage_line(index.passages[i], key)) + b"\n")
    np.save(tmp / "passage_ids.npy", np.asarray(index.ids, dtype=np.int64))
    np.save(tmp / "passage_docs.npy", index.doc_rows().astype(np.int32))
    faiss.write_index(index.dense, str(tmp / "dense.faiss"))
    index.bm25.save(tmp / "bm25")
    if embedder_dir is not None:
        shutil.copytree(embedder_dir, tmp / "embedder")


def save_documents(index: Index) -> None:
    """Rewrite the build's documents.jsonl after their metadata was corrected (qa docs set); their
    texts, in texts.jsonl, are unchanged."""
    tmp = index.folder / f".documents.{os.getpid()}.tmp"
    _write_jsonl(tmp, (stored_documents.metadata_row(d) for d in index.documents.values()))
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, index.folder / "documents.jsonl")
    _fsync_dir(index.folder)


# --- writers: one at a time, and the leftovers of killed ones -----------------------------------

_held: dict[str, list] = {}  # index folder → [open lock file, depth, owning thread]
_held_guard = threading.Lock()


@contextmanager
def writer_lock(root: Path, timeout: float | None = None, on_wait=None):
    """Hold the index folder's write lock: wait up to `timeout` seconds (default $QA_LOCK_TIMEOUT
    or LOCK_TIMEOUT) for another writer, else IndexBusy; on_wait(holder) is called once when it has
    to wait. Re-entrant within a thread. While it is held, what killed writers left is removed
    (clean_leftovers)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key = str(root.resolve())
    me = threading.get_ident()
    with _held_guard:
        held = _held.get(key)
        if held is not None and held[2] == me:
            held[1] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    if timeout is None:
        timeout = float(os.environ.get("QA_LOCK_TIMEOUT") or LOCK_TIMEOUT)
    f = open(root / LOCK_NAME, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                f.seek(0)
                who = f.read().strip()
                if not waited and on_wait is not None and timeout > 0:
                    on_wait(who or "another process")
                waited = True
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"index {root} is busy: another ingest or upload ({who or 'another process'}) "
                                    f"is writing it; nothing was changed, try again when it has finished "
                                    f"(waited {timeout:.0f} s; $QA_LOCK_TIMEOUT sets how long)") from None
                time.sleep(0.05)
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
        f.flush()
        with _held_guard:
            _held[key] = [f, 1, me]
        try:
            clean_leftovers(root)
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            f.seek(0)
            f.truncate()
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    finally:
        f.close()


def holds_lock(root: Path) -> bool:
    with _held_guard:
        held = _held.get(str(Path(root).resolve()))
        return held is not None and held[2] == threading.get_ident()


def clean_leftovers(root: Path) -> list[str]:
    """Remove what killed writers left in root: partial builds, builds CURRENT does not name, temp
    files and folders. Only safe under writer_lock (no other writer is running); returns the names."""
    current = current_build(root)
    removed = []
    for p in Path(root).iterdir():
        name = p.name
        stale = (name.startswith((".build-", TEMP_PREFIX, ".CURRENT.", ".upload-"))
                 or (name.startswith("build-") and (current is None or p.name != current.name))
                 or (name.startswith("overrides.") and name.endswith(".tmp")))
        if not stale:
            continue
        if current is None and name.startswith("build-"):
            continue  # no CURRENT to compare with: never guess which build is the index
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(name)
    if current is not None:
        for p in current.glob(".documents.*.tmp"):
            p.unlink(missing_ok=True)
            removed.append(f"{current.name}/{p.name}")
    return removed


def _fsync_tree(folder: Path) -> None:
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def passage_line(passage: Passage, key: int) -> bytes:
    """A passage's line of passages.jsonl, without the newline."""
    return json.dumps({**_row(passage), "key": int(key)}, ensure_ascii=False).encode()


def _row(record) -> dict:
    """A dataclass's fields as a dict, for JSON: what asdict gives for these flat records, without
    its deep copy (a tenth of the time at 100k passages)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

