"""The BM25 index of a big corpus built on disk, in bounded memory: the same files, byte for byte,
as building it in memory (qa/bm25_arrays.py) and saving it with bm25s (tests/test_bm25_disk.py).

Token ids arrive chunk by chunk from the segmenting workers (qa/tokens.py) and go straight into
`tokens.npy` (`TokenFile`); only the vocabulary and each passage's length stay in memory. The
scores are then made in two passes over that file: slices of passages give their (token,
passage, count) triples, sorted by token, written to scratch files ("runs") while the document
frequencies add up; then, a block of tokens at a time, each run's triples of those tokens are read
back, scored, and appended to bm25s' `data` and `indices` arrays (a column per token, passages
ascending, which the runs, in passage order, give with a stable sort). At a million passages
the arrays in memory are a few hundred MB at most, not the gigabytes of the whole corpus' ids
and triples.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from qa.bm25_arrays import B, CHUNK_TOKENS, K1, _slices

BLOCK_PAIRS = 1 << 22  # (token, passage) pairs scored and written at a time
BM25S_FILES = {"data": "data.csc.index.npy", "indices": "indices.csc.index.npy", "indptr": "indptr.csc.index.npy",
               "vocab": "vocab.index.json", "params": "params.index.json"}


def npy_header(dtype, count: int) -> bytes:
    """np.save's header of a 1-d array of count items; the same length for any count (numpy pads
    the shape for arrays that grow), so that a file's header can be written again at its end."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": (int(count),)})
    return out.getvalue()


def npy_data(path: Path) -> tuple[int, np.dtype, int]:
    """(offset of the data, dtype, length) of a 1-d .npy file."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
        return f.tell(), dtype, int(np.prod(shape))


def read_slice(f, offset: int, dtype, first: int, last: int) -> np.ndarray:
    """Items first..last-1 of the array stored at offset in an open file: read, not mapped (mapped
    pages would count as the process' memory)."""
    dtype = np.dtype(dtype)
    f.seek(offset + first * dtype.itemsize)
    out = np.fromfile(f, dtype, count=last - first)
    if len(out) != last - first:
        raise OSError(f"{getattr(f, 'name', 'a file')} is shorter than expected")
    return out


class TokenFile:
    """Token ids written into a .npy file chunk by chunk, each chunk's ids into its own words
    (what a segmenting worker sends) mapped into one vocabulary, numbered in the order words first
    occur, as segmenting everything in one go would number them."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.file = open(self.path, "wb")
        self.file.write(npy_header(np.int32, 0))
        self.count = 0
        self.vocab: dict[str, int] = {}
        self.lengths = [np.zeros(1, np.int64)]

    def add(self, words: list[str], ids: np.ndarray, lengths: np.ndarray) -> None:
        mapping = np.array([self.vocab.setdefault(w, len(self.vocab)) for w in words], dtype=np.int32)
        self.add_ids(mapping[ids] if len(ids) else np.zeros(0, np.int32), lengths)

    def add_ids(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        """Ids already in this file's vocabulary."""
        self.file.write(np.ascontiguousarray(ids, dtype=np.int32).tobytes())
        self.count += len(ids)
        self.lengths.append(np.asarray(lengths, dtype=np.int64))

    def close(self) -> tuple[np.ndarray, list[str]]:
        """(start of each text's ids, words); the file's header now says how many ids it holds."""
        if not self.file.closed:
            header = npy_header(np.int32, self.count)
            if len(header) != len(npy_header(np.int32, 0)):
                raise RuntimeError("numpy wrote a header of another length; this is a bug, please report it")
            self.file.seek(0)
            self.file.write(header)
            self.file.close()
        return np.cumsum(np.concatenate(self.lengths)), list(self.vocab)

    def discard(self) -> None:
        self.file.close()


def carry(old_tokens: Path, old_starts: np.ndarray, old_words: list[str], rows: np.ndarray,
          fresh: Path, fresh_starts: np.ndarray, fresh_words: list[str], out: Path) -> tuple[np.ndarray, list[str]]:
    """BM25.carry_ids on disk: into out, the ids of the old index's passage rows (its tokens.npy)
    then the fresh ones (a TokenFile's), in a vocabulary of the kept rows' words in their old order
    then the fresh words; returns (starts, words)."""
    rows = np.asarray(rows, dtype=np.int64)
    old_starts = np.asarray(old_starts, dtype=np.int64)
    lengths = old_starts[rows + 1] - old_starts[rows]
    at, dtype, _ = npy_data(old_tokens)
    used = np.zeros(len(old_words), bool)
    with open(old_tokens, "rb") as f:
        for ids in _rows_ids(f, at, dtype, old_starts, rows):
            used[ids] = True
        new_id = (np.cumsum(used) - 1).astype(np.int32)
        words = [w for w, u in zip(old_words, used.tolist()) if u]
        vocab = {w: i for i, w in enumerate(words)}
        mapping = np.array([vocab.setdefault(w, len(vocab)) for w in fresh_words], dtype=np.int32)
        target = TokenFile(out)
        try:
            for ids in _rows_ids(f, at, dtype, old_starts, rows):
                target.add_ids(new_id[ids], [])
        except BaseException:
            target.discard()
            raise
    fresh_at, fresh_dtype, fresh_count = npy_data(fresh)
    with open(fresh, "rb") as f:
        for first in range(0, fresh_count, CHUNK_TOKENS):
            target.add_ids(mapping[read_slice(f, fresh_at, fresh_dtype, first, min(fresh_count, first + CHUNK_TOKENS))], [])
    target.close()
    offsets = np.cumsum(np.r_[0, lengths]).astype(np.int64)
    return np.concatenate([offsets, offsets[-1] + np.asarray(fresh_starts, np.int64)[1:]]), list(vocab)


def _rows_ids(f, at: int, dtype, starts: np.ndarray, rows: np.ndarray):
    """The ids of these passage rows (ascending), in order, a slice of the file at a time."""
    if not len(rows):
        return
    # runs of consecutive rows, each read in pieces of about CHUNK_TOKENS ids
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    for run in np.split(rows, breaks):
        first, last = int(run[0]), int(run[-1]) + 1
        while first < last:
            end = int(np.searchsorted(starts, starts[first] + CHUNK_TOKENS, side="right")) - 1
            end = min(last, max(end, first + 1))
            yield read_slice(f, at, dtype, int(starts[first]), int(starts[end]))
            first = end


def write_index(folder: Path, tokens: Path, starts: np.ndarray, words: list[str]) -> None:
    """bm25s' saved files, and token_starts.npy, in folder (tokens.npy already there, `tokens`):
    what BM25.from_ids(ids, starts, words).save(folder) writes."""
    import bm25s
    from bm25s.utils import json_functions

    folder = Path(folder)
    starts = np.asarray(starts, dtype=np.int64)
    n_docs = len(starts) - 1
    if n_docs == 0:
        raise ValueError("write_index needs at least one passage (BM25.from_ids indexes an empty corpus)")
    vocab = {word: i for i, word in enumerate(words)}
    lengths = np.diff(starts)
    empty = np.flatnonzero(lengths == 0)
    # bm25s cannot index an empty passage: a placeholder token, as BM25.from_ids inserts
    placeholder = vocab.setdefault("\x00", len(vocab)) if len(empty) else -1
    scored = lengths.copy()
    scored[empty] = 1
    scored_starts = np.zeros(n_docs + 1, np.int64)
    np.cumsum(scored, out=scored_starts[1:])
    n_vocab = len(vocab)
    at, dtype, _ = npy_data(tokens)

    with tempfile.TemporaryDirectory(prefix=".bm25-runs-", dir=folder.parent) as scratch, open(tokens, "rb") as source:
        run_files = [open(Path(scratch) / name, "w+b") for name in ("tokens", "docs", "tf")]
        try:
            df, runs = _runs(source, at, dtype, starts, scored_starts, empty, placeholder, n_vocab, run_files)
            _scores(folder, run_files, runs, df, scored, n_docs)
        finally:
            for f in run_files:
                f.close()
    np.save(folder / "token_starts.npy", starts)

    vocab.setdefault("", len(vocab))  # bm25s' empty token, which no passage has
    retriever = bm25s.BM25()
    with open(folder / BM25S_FILES["vocab"], "wt", encoding="utf-8") as f:
        f.write(json_functions.dumps(vocab, ensure_ascii=False))
    params = dict(k1=retriever.k1, b=retriever.b, delta=retriever.delta, method=retriever.method,
                  idf_method=retriever.idf_method, dtype=retriever.dtype, int_dtype=retriever.int_dtype,
                  num_docs=n_docs, version=bm25s.__version__, backend=retriever.backend)
    with open(folder / BM25S_FILES["params"], "w") as f:
        json.dump(params, f, indent=4)


def _runs(source, at: int, dtype, starts, scored_starts, empty, placeholder: int, n_vocab: int, run_files):
    """Pass one: each slice's (token, passage, count) triples, by token then passage, appended to
    the run files; returns the document frequencies and each run's (first, last) triple."""
    n_docs = len(starts) - 1
    df = np.zeros(n_vocab, np.int64)
    runs, written = [], 0
    for first, last in _slices(scored_starts):
        ids = read_slice(source, at, dtype, int(starts[first]), int(starts[last]))
        gaps = empty[(empty >= first) & (empty < last)]
        if len(gaps):
            ids = np.insert(ids, starts[gaps] - starts[first], placeholder)
        tokens = ids.astype(np.int64)
        docs = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(scored_starts[first:last + 1]))
        keys, tf = np.unique(tokens * n_docs + docs, return_counts=True)
        tokens, docs = keys // n_docs, keys % n_docs
        df += np.bincount(tokens, minlength=n_vocab)
        for f, column in zip(run_files, (tokens, docs, tf)):
            f.write(column.astype(np.int32).tobytes())
        runs.append((written, written + len(keys)))
        written += len(keys)
    return df, runs


def _scores(folder: Path, run_files, runs, df: np.ndarray, lengths: np.ndarray, n_docs: int) -> None:
    """Pass two: data, indices and indptr, a block of tokens at a time, in bm25s' CSC order."""
    avg_len = lengths.mean()  # as bm25s takes it: numpy's mean of the int64 lengths
    idf = np.zeros(len(df), np.float32)  # math.log, as bm25s, not numpy's: the same last bit
    for t, d in enumerate(df.tolist()):
        if d:
            idf[t] = math.log(1 + (n_docs - d + 0.5) / (d + 0.5))
    norm = K1 * ((1 - B) + B * lengths / avg_len)  # float64 per passage, as bm25s' scalar
    indptr = np.zeros(len(df) + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    np.save(folder / BM25S_FILES["indptr"], indptr)
    # blocks of tokens of at most BLOCK_PAIRS pairs (or one token), and where each run holds them
    cuts = [0]
    while cuts[-1] < len(df):
        t = cuts[-1]
        end = int(np.searchsorted(indptr, indptr[t] + BLOCK_PAIRS, side="right")) - 1
        cuts.append(min(len(df), max(end, t + 1)))
    cuts = np.array(cuts, np.int64)
    tokens_file, docs_file, tf_file = run_files
    for f in run_files:
        f.flush()
    bounds = np.array([first + np.searchsorted(read_slice(tokens_file, 0, np.int32, first, last), cuts, side="left")
                       for first, last in runs], dtype=np.int64).reshape(len(runs), len(cuts))
    total = int(indptr[-1])
    with open(folder / BM25S_FILES["data"], "wb") as data, open(folder / BM25S_FILES["indices"], "wb") as rows:
        data.write(npy_header(np.float32, total))
        rows.write(npy_header(np.int32, total))
        for b in range(len(cuts) - 1):
            parts = [(int(bounds[r, b]), int(bounds[r, b + 1])) for r in range(len(runs))]
            parts = [(first, last) for first, last in parts if last > first]
            if not parts:
                continue
            tokens = np.concatenate([read_slice(tokens_file, 0, np.int32, *p) for p in parts])
            docs = np.concatenate([read_slice(docs_file, 0, np.int32, *p) for p in parts])
            tf = np.concatenate([read_slice(tf_file, 0, np.int32, *p) for p in parts])
            order = np.argsort(tokens, kind="stable")  # runs are in passage order: passages stay ascending
            tokens, docs, tf = tokens[order], docs[order], tf[order].astype(np.float32).astype(np.float64)
            data.write((idf[tokens] * (tf / (norm[docs] + tf))).astype(np.float32).tobytes())
            rows.write(docs.tobytes())
        if data.tell() != len(npy_header(np.float32, total)) + 4 * total:
            raise RuntimeError("the BM25 arrays came out short; this is a bug, please report it")


def link_or_copy(source: Path, target: Path) -> None:
    """target as a second name of source (same file system), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copyfile(source, target)
