"""The FAISS index of the passages' vectors: exact up to a size, approximate beyond.

Up to APPROXIMATE_FROM vectors every passage is scored (IndexFlatIP in an IndexIDMap2): a few
milliseconds at 100k vectors of 256 dimensions. Beyond, the vectors go to an inverted file of
half-precision vectors (IndexIVFScalarQuantizer, fp16: half the memory, and only the nearest
lists are scanned). Its nprobe is the smallest that finds RECALL of the exact top 10 for a sample
of the passages themselves used as queries; scripts/bench_scale.py measures it on questions.

An exact index of TWO_STEP_FROM vectors or more is searched in two steps (`TwoStep`), with the
same results as IndexFlatIP: half-precision copies of the vectors are scanned first (half the
memory to read), then the candidates that could be among the best are scored in full precision.
"""

from __future__ import annotations

import numpy as np

APPROXIMATE_FROM = 200_000  # vectors (Settings.approximate_from, $QA_APPROXIMATE_FROM)
RECALL = 0.99  # of the exact top 10 for passages as queries: questions, shorter, need more lists (0.97-0.98 on the bench)
PROBE_SAMPLE = 500  # passages used as queries to choose nprobe
TRAIN_SAMPLE = 100_000  # vectors the coarse quantiser and the scalar quantiser learn from
NPROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
TWO_STEP_FROM = 20_000  # vectors: below it one full-precision scan takes well under a millisecond
TWO_STEP_DEPTH = 3  # the half-precision scan keeps this many times k candidates
BLOCK_ROWS = 1 << 16  # vectors added or scanned at a time when building (a multiple of FAISS' own 1,024-row blocks)


def new_dense(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def is_approximate(dense) -> bool:
    import faiss

    return isinstance(dense, faiss.IndexIVF)


def grow(dense, vectors: np.ndarray, ids: np.ndarray, dim: int, approximate_from: int = APPROXIMATE_FROM):
    """dense with vectors added under ids; an exact index that reaches approximate_from vectors is
    made again as an approximate one."""
    import faiss

    if is_approximate(dense) or dense.ntotal + len(vectors) < approximate_from:
        if len(vectors):
            dense.add_with_ids(vectors, ids)
        return dense
    kept = dense.index.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, dim), np.float32)
    return build(np.vstack([kept, vectors]), np.concatenate([faiss.vector_to_array(dense.id_map), ids]), dim,
                 approximate_from)


def build(vectors, ids: np.ndarray, dim: int, approximate_from: int = APPROXIMATE_FROM, seed: int = 0):
    """A dense index holding vectors (an array, or a VectorFile read a block at a time) under ids:
    exact below approximate_from vectors, else IVF-SQ8."""
    if len(vectors) < max(approximate_from, 1):
        dense = new_dense(dim)
        for first, block in _blocks(vectors):
            dense.add_with_ids(block, ids[first:first + len(block)])
        return dense
    return _ivf(vectors, ids, dim, seed)


def _ivf(vectors, ids: np.ndarray, dim: int, seed: int):
    import faiss

    n = len(vectors)
    nlist = int(min(max(16, 4 * np.sqrt(n)), n // 40 or 1))  # faiss wants ≥ 39 training points a list
    rng = np.random.default_rng(seed)
    train = _take(vectors, np.sort(rng.choice(n, min(n, TRAIN_SAMPLE, 256 * nlist), replace=False)))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                        faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    ivf.train(train)
    del train
    for first, block in _blocks(vectors):  # each vector goes to its list in order: the same lists as one add
        ivf.add_with_ids(block, ids[first:first + len(block)])
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by passage id
    ivf.nprobe = choose_nprobe(ivf, vectors, ids, rng)
    return ivf


class VectorFile:
    """Vectors written to a file a batch at a time (float32 rows, no header), read back a block at
    a time: a million passages' vectors (1 GB at 256 dimensions) are not held while the index is
    built. Read, not mapped: mapped pages would count as the process' memory."""

    def __init__(self, path, dim: int):
        self.path, self.dim = path, dim
        self.file = open(path, "w+b")
        self.count = 0

    def write(self, vectors: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        self.count += len(vectors)

    def __len__(self) -> int:
        return self.count

    def rows(self, first: int, last: int) -> np.ndarray:
        self.file.flush()
        self.file.seek(4 * self.dim * first)
        out = np.fromfile(self.file, np.float32, count=(last - first) * self.dim)
        if len(out) != (last - first) * self.dim:
            raise OSError(f"{self.path} is shorter than expected")
        return out.reshape(last - first, self.dim)

    def close(self) -> None:
        self.file.close()


def _blocks(vectors):
    """(first row, rows) of vectors, BLOCK_ROWS at a time."""
    for first in range(0, len(vectors), BLOCK_ROWS):
        last = min(len(vectors), first + BLOCK_ROWS)
        yield first, vectors.rows(first, last) if isinstance(vectors, VectorFile) else vectors[first:last]


def _take(vectors, rows: np.ndarray) -> np.ndarray:
    """vectors[rows], rows ascending."""
    if not isinstance(vectors, VectorFile):
        return vectors[rows]
    out = np.empty((len(rows), vectors.dim), np.float32)
    for first, block in _blocks(vectors):
        lo, hi = np.searchsorted(rows, [first, first + len(block)])
        out[lo:hi] = block[rows[lo:hi] - first]
    return out


def choose_nprobe(ivf, vectors: np.ndarray, ids: np.ndarray, rng, k: int = 10) -> int:
    """The smallest nprobe whose top k holds RECALL of the exact top k, for sample passages as queries."""
    queries = _take(vectors, np.sort(rng.choice(len(vectors), min(PROBE_SAMPLE, len(vectors)), replace=False)))
    exact = ids[exact_top(vectors, queries, k)]
    for nprobe in NPROBES:
        if nprobe > ivf.nlist:
            break
        ivf.nprobe = nprobe
        _, found = ivf.search(queries, k)
        if recall(found, exact) >= RECALL:
            return nprobe
    return min(ivf.nlist, NPROBES[-1])


def exact_top(vectors, queries: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each query's k best vectors by inner product (brute force, no copy of vectors;
    a VectorFile a block at a time). A block-wise scan finds the same scores as FAISS' whole scan,
    but among vectors tied at the k-th score it may keep others (FAISS' choice follows its heap's
    history): choose_nprobe's recall can then differ by a tie (tests/test_dense.py)."""
    import faiss

    if not isinstance(vectors, VectorFile):
        _, rows = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
        return rows
    best_scores, best_rows = [], []
    for first, block in _blocks(vectors):
        scores, rows = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
        best_scores.append(scores)
        best_rows.append(np.where(rows >= 0, rows + first, -1))
    scores, rows = np.hstack(best_scores), np.hstack(best_rows)
    # the best k of the blocks' best; among equal scores the last rows first, as FAISS orders them
    order = np.lexsort((-rows, -scores), axis=1)[:, :k] if scores.size else np.zeros((len(queries), 0), np.int64)
    out = np.take_along_axis(rows, order, axis=1)
    return np.hstack([out, np.full((len(queries), k - out.shape[1]), -1, out.dtype)]) if out.shape[1] < k else out


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact neighbours that were found, over all queries."""
    hits = sum(len(set(f[f >= 0].tolist()) & set(e.tolist())) for f, e in zip(found, exact))
    return hits / max(1, exact.size)


class TwoStep:
    """An exact index (IndexIDMap2 over IndexFlatIP) searched one query at a time with the same
    results, scores and order as its own search, in about half the time: the scan reads
    half-precision copies of the vectors (an fp16 IndexScalarQuantizer beside it, in memory), and
    the candidates it keeps are scored again by FAISS in full precision.

    Why nothing is missed: a score read in fp16 is within `slack` of the full one (each component
    rounded to 11 significant bits, |q·(x - x16)| <= |q| |x| 2^-11 by Cauchy-Schwarz, plus the
    float32 sums' rounding of both scans). The k candidates best in fp16 each score at least
    s16_k - slack, so each of the true best k scores at least that much, and in fp16 at least
    s16_k - 2 slack. The scan keeps the DEPTH·k best in fp16; when the last of them is below that
    bound, the true best k are among those at or above it (the candidates), and every other vector
    scores below the true k-th; else the full scan is run instead. The candidates are scored by
    the same FAISS kernel, in ascending position, so the floats are the same and equal scores come
    in the same order (FAISS's heaps order them by position). When the k-th and the (k+1)-th
    candidate tie, which of them the full scan keeps depends on the order it met them: then the
    full scan is run too."""

    def __init__(self, exact, depth: int = TWO_STEP_DEPTH):
        import faiss

        self.exact, self.depth = exact, depth
        flat = faiss.downcast_index(exact.index)
        n, dim = flat.ntotal, flat.d
        self.vectors = faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(n, dim)  # a view, no copy
        self.keys = faiss.vector_to_array(exact.id_map)
        self.half = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        self.half.add(self.vectors)
        # the longest vector's length (float32 sums of 256 squares: 1e-4 more covers their rounding)
        self.longest = 1.0001 * float(np.sqrt(np.einsum("ij,ij->i", self.vectors, self.vectors).max(initial=0.0)))
        self.rounding = 2.0 ** -11 + 2 * dim * 2.0 ** -24  # of |q| |x|; and fp16's subnormals, absolute:
        self.tiny = np.sqrt(dim) * 2.0 ** -25
        self.fallbacks = 0  # searches that ran the full scan (for tests and benchmarks)

    @property
    def ntotal(self) -> int:
        return self.exact.ntotal

    def search(self, queries: np.ndarray, k: int):
        import faiss

        if len(queries) != 1 or self.depth * k >= self.exact.ntotal or self.half.ntotal != self.exact.ntotal:
            return self.exact.search(queries, k)
        q = np.ascontiguousarray(queries, dtype=np.float32)
        near, rows = self.half.search(q, self.depth * k)
        norm = float(np.linalg.norm(q.astype(np.float64)))
        bound = near[0, k - 1] - 2 * norm * (self.longest * self.rounding + self.tiny)
        if rows[0, -1] < 0 or not near[0, -1] < bound:
            self.fallbacks += 1
            return self.exact.search(queries, k)
        kept = int(np.searchsorted(-near[0], -bound, side="right"))  # those at or above the bound (at least k)
        candidates = np.sort(rows[0, :kept])
        scores, at = faiss.knn(q, self.vectors[candidates], min(k + 1, kept), metric=faiss.METRIC_INNER_PRODUCT)
        if kept > k and scores[0, k - 1] == scores[0, k]:  # the rest score below the k-th: only these may tie
            self.fallbacks += 1
            return self.exact.search(queries, k)
        return scores[:, :k], self.keys[candidates[at[:, :k]]]


def searcher(dense, two_step_from: int | None = None):
    """What answers a query's search of `dense`: a TwoStep over an exact index of two_step_from
    (TWO_STEP_FROM) vectors or more whose vectors fp16 holds, else dense."""
    import faiss

    two_step_from = TWO_STEP_FROM if two_step_from is None else two_step_from
    if is_approximate(dense) or dense.ntotal < two_step_from or not isinstance(dense, faiss.IndexIDMap2):
        return dense
    flat = faiss.downcast_index(dense.index)
    if not isinstance(flat, faiss.IndexFlatIP):
        return dense
    found = TwoStep(dense)
    return found if found.longest < 60_000 else dense  # else a component may be beyond fp16's range (or NaN)
