"""The FAISS index of the passages' vectors: exact up to a size, approximate beyond.

Up to APPROXIMATE_FROM vectors every passage is scored (IndexFlatIP in an IndexIDMap2): a few
milliseconds at 100k vectors of 256 dimensions. Beyond, the vectors go to an inverted file of
half-precision vectors (IndexIVFScalarQuantizer, fp16: half the memory, and only the nearest
lists are scanned). Its nprobe is the smallest that finds RECALL of the exact top 10 for a sample
of the passages themselves used as queries; scripts/bench_scale.py measures it on questions.
"""

from __future__ import annotations

import numpy as np

APPROXIMATE_FROM = 200_000  # vectors (Settings.approximate_from, $QA_APPROXIMATE_FROM)
RECALL = 0.99  # of the exact top 10 for passages as queries: questions, shorter, need more lists (0.97-0.98 on the bench)
PROBE_SAMPLE = 500  # passages used as queries to choose nprobe
TRAIN_SAMPLE = 100_000  # vectors the coarse quantiser and the scalar quantiser learn from
NPROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


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


def build(vectors: np.ndarray, ids: np.ndarray, dim: int, approximate_from: int = APPROXIMATE_FROM, seed: int = 0):
    """A dense index holding vectors under ids: exact below approximate_from vectors, else IVF-SQ8."""
    if len(vectors) < max(approximate_from, 1):
        dense = new_dense(dim)
        if len(vectors):
            dense.add_with_ids(vectors, ids)
        return dense
    return _ivf(vectors, ids, dim, seed)


def _ivf(vectors: np.ndarray, ids: np.ndarray, dim: int, seed: int):
    import faiss

    n = len(vectors)
    nlist = int(min(max(16, 4 * np.sqrt(n)), n // 40 or 1))  # faiss wants ≥ 39 training points a list
    rng = np.random.default_rng(seed)
    train = vectors[np.sort(rng.choice(n, min(n, TRAIN_SAMPLE, 256 * nlist), replace=False))]
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                        faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    ivf.train(train)
    ivf.add_with_ids(vectors, ids)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by passage id
    ivf.nprobe = choose_nprobe(ivf, vectors, ids, rng)
    return ivf


def choose_nprobe(ivf, vectors: np.ndarray, ids: np.ndarray, rng, k: int = 10) -> int:
    """The smallest nprobe whose top k holds RECALL of the exact top k, for sample passages as queries."""
    queries = vectors[np.sort(rng.choice(len(vectors), min(PROBE_SAMPLE, len(vectors)), replace=False))]
    exact = ids[exact_top(vectors, queries, k)]
    for nprobe in NPROBES:
        if nprobe > ivf.nlist:
            break
        ivf.nprobe = nprobe
        _, found = ivf.search(queries, k)
        if recall(found, exact) >= RECALL:
            return nprobe
    return min(ivf.nlist, NPROBES[-1])


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each query's k best vectors by inner product (brute force, no copy of vectors)."""
    import faiss

    _, rows = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    return rows


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact neighbours that were found, over all queries."""
    hits = sum(len(set(f[f >= 0].tolist()) & set(e.tolist())) for f, e in zip(found, exact))
    return hits / max(1, exact.size)
