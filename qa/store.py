"""Stage 6: the index folder on disk, written atomically and refused when it does not match.

    index/
      CURRENT              name of the build in use; replaced atomically (os.replace)
      build-<time>/
        manifest.json      format version, embedding model and dimension, chunk settings,
                           fusion weight, per-document content hashes
        documents.jsonl    one document per line, with its cleaned text and metadata (and where
                           each value came from); older builds without place/provenance load too
      overrides.json       the user's metadata corrections, kept across builds (qa/overrides.py)
      ocr-cache/           OCR results per page image, JSON, kept across builds (qa/ocr.py)
        passages.jsonl     one passage per line (row i = FAISS id i's passage)
        dense.faiss        IndexIDMap2(IndexFlatIP) over normalised vectors
        bm25/              bm25s arrays (.npy, no pickles) and vocabulary (.json)
        embedder/          the corpus-trained model, when the fallback is in use

A failed or interrupted ingest leaves CURRENT pointing at the previous, complete build.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa import overrides
from qa.lexical import BM25
from qa.types import Document, Passage

FORMAT_VERSION = 1


class IndexUnusable(Exception):
    """The index folder is missing, damaged or incompatible; the message says what to do."""


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
    passages: list[Passage]
    ids: np.ndarray  # int64 FAISS id of each passage row
    dense: object  # faiss.IndexIDMap2
    bm25: BM25
    folder: Path | None = None

    def vectors(self) -> np.ndarray:
        return np.vstack([self.dense.reconstruct(int(i)) for i in self.ids]) if len(self.ids) \
            else np.zeros((0, self.manifest.dim), np.float32)


def passage_key(passage_id: str) -> int:
    """A stable non-negative int64 FAISS id derived from the passage id."""
    import hashlib

    return int.from_bytes(hashlib.sha256(passage_id.encode()).digest()[:8], "big") >> 1


def new_dense(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def current_build(root: Path) -> Path | None:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return None
    build = root / pointer.read_text().strip()
    return build if build.is_dir() else None


def load(root: Path, expect_model: str | None = None) -> Index:
    import faiss

    build = current_build(root)
    if build is None:
        raise IndexUnusable(f"no index in {root}: build one with `qa ingest data/corpus --index {root}`")
    try:
        raw = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"index {build} has no readable manifest ({exc}): rebuild it with "
                          f"`qa ingest PATH --index {root} --rebuild`") from None
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexUnusable(f"index {root} has format version {raw.get('format_version')}, this program "
                          f"reads version {FORMAT_VERSION}: rebuild it with `qa ingest PATH --index {root} --rebuild`")
    manifest = Manifest(**raw)
    if expect_model and expect_model != manifest.embed_model:
        raise IndexUnusable(f"index {root} was built with embedding model {manifest.embed_model}, not "
                          f"{expect_model}: rebuild it with `qa ingest PATH --index {root} --rebuild "
                          f"--embed-model {expect_model}`, or drop --embed-model to use the index's model")
    documents = {d["doc_id"]: Document(**d) for d in _read_jsonl(build / "documents.jsonl")}
    overrides.apply(documents.values(), overrides.load(root))
    rows = _read_jsonl(build / "passages.jsonl")
    passages = [Passage(**{k: v for k, v in r.items() if k != "key"}) for r in rows]
    ids = np.array([r["key"] for r in rows], dtype=np.int64)
    dense = faiss.read_index(str(build / "dense.faiss"))
    if dense.d != manifest.dim or dense.ntotal != len(passages):
        raise IndexUnusable(f"index {build} is damaged (vectors do not match passages): rebuild it with "
                          f"`qa ingest PATH --index {root} --rebuild`")
    return Index(manifest, documents, passages, ids, dense, BM25.load(build / "bm25"), build)


def save(root: Path, index: Index, embedder_dir: Path | None = None) -> Path:
    """Write a new build next to the current one, then switch CURRENT to it atomically."""
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = root / f".{name}.partial"
    tmp.mkdir()
    try:
        index.manifest.created = time.strftime("%Y-%m-%dT%H:%M:%S")
        index.manifest.counts = {"documents": len(index.documents), "passages": len(index.passages)}
        (tmp / "manifest.json").write_text(json.dumps(asdict(index.manifest), ensure_ascii=False, indent=2),
                                           encoding="utf-8")
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in index.documents.values()))
        _write_jsonl(tmp / "passages.jsonl",
                     ({**asdict(p), "key": int(k)} for p, k in zip(index.passages, index.ids)))
        faiss.write_index(index.dense, str(tmp / "dense.faiss"))
        index.bm25.save(tmp / "bm25")
        if embedder_dir is not None:
            shutil.copytree(embedder_dir, tmp / "embedder")
        os.replace(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    previous = current_build(root)
    pointer_tmp = root / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name)
    os.replace(pointer_tmp, root / "CURRENT")
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    index.folder = root / name
    return root / name


def save_documents(index: Index) -> None:
    """Rewrite the build's documents.jsonl after their metadata was corrected (qa docs set)."""
    tmp = index.folder / f".documents.{os.getpid()}.tmp"
    _write_jsonl(tmp, (asdict(d) for d in index.documents.values()))
    os.replace(tmp, index.folder / "documents.jsonl")


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
