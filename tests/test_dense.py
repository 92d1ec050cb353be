import numpy as np
import pytest

from qa import dense, store
from qa.config import Settings
from qa.ingest import ingest


def vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, dim))
    x = (centers[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_below_the_size_approximate_from_it():
    x, ids = vectors(2000), np.arange(2000, dtype=np.int64) * 7 + 3
    exact = dense.build(x, ids, 16, approximate_from=2001)
    approx = dense.build(x, ids, 16, approximate_from=2000)
    assert not dense.is_approximate(exact) and dense.is_approximate(approx)
    assert approx.ntotal == exact.ntotal == 2000
    _, want = exact.search(x[:50], 10)
    _, got = approx.search(x[:50], 10)
    assert dense.recall(got, want) >= 0.9
    assert set(got.ravel()) <= set(ids.tolist())
    np.testing.assert_allclose(approx.reconstruct(int(ids[5])), x[5], atol=1e-3)  # half precision


def test_nprobe_is_the_smallest_that_reaches_the_recall(monkeypatch):
    import faiss

    x, ids = vectors(4000, seed=1), np.arange(4000, dtype=np.int64)
    ivf = dense.build(x, ids, 16, approximate_from=1)
    monkeypatch.setattr(dense, "PROBE_SAMPLE", len(x))  # every vector a query: no sampling
    chosen = dense.choose_nprobe(ivf, x, ids, np.random.default_rng(0))
    want = dense.exact_top(x, x, 10)

    def recall_at(nprobe):
        probe = faiss.clone_index(ivf)
        probe.nprobe = nprobe
        return dense.recall(probe.search(x, 10)[1], ids[want])

    assert chosen < ivf.nlist and recall_at(chosen) >= dense.RECALL
    if chosen > 1:
        assert recall_at(dense.NPROBES[dense.NPROBES.index(chosen) - 1]) < dense.RECALL


def test_recall():
    assert dense.recall(np.array([[1, 2, -1]]), np.array([[1, 2, 3]])) == pytest.approx(2 / 3)


def test_an_exact_index_that_grows_past_the_size_becomes_approximate():
    x, ids = vectors(600), np.arange(600, dtype=np.int64) + 100
    small = dense.build(x[:300], ids[:300], 16, approximate_from=500)
    assert not dense.is_approximate(small)
    grown = dense.grow(small, x[300:], ids[300:], 16, approximate_from=500)
    assert dense.is_approximate(grown) and grown.ntotal == 600
    _, found = grown.search(x[450:451], 1)
    assert found[0][0] == ids[450]


def test_ingest_above_the_size_stores_an_approximate_index_and_answers(tmp_path, tiny_st_model):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for n in range(6):
        (corpus / f"r{n}.txt").write_text("".join(f"第{n}号报告第{i}条：城中村改造完成拆迁{i * 100 + n}户。" for i in range(40)),
                                          encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model), chunk_size=60,
                        approximate_from=10)
    ingest([corpus], settings)
    index = store.load(settings.index_dir)
    assert dense.is_approximate(index.dense) and index.dense.ntotal == len(index.passages) >= 10
    from qa.embedding import load_model
    from qa.retrieval import Retriever

    hits = Retriever(index, load_model(str(tiny_st_model))).search("城中村改造拆迁", k=3, mode="dense")
    assert len(hits) == 3
    (corpus / "r0.txt").write_text("地铁5号线站点建设全面开工。", encoding="utf-8")
    ingest([corpus], settings)  # an incremental ingest keeps the approximate index, less r0's old passages
    again = store.load(settings.index_dir)
    assert dense.is_approximate(again.dense) and again.dense.ntotal == len(again.passages) < len(index.passages)


def _same(a, b):
    """Two searches' results bit for bit: scores and keys, in order."""
    (da, ka), (db, kb) = a, b
    return np.array_equal(ka, kb) and np.array_equal(da.view(np.int32), db.view(np.int32))


def test_two_step_search_gives_the_exact_search_bit_for_bit():
    x = vectors(6000, dim=32, seed=2)
    x[100:110] = x[5]  # equal scores inside the best k: their order must be the full scan's
    ids = np.random.default_rng(3).permutation(10**6)[:len(x)].astype(np.int64)
    exact = dense.build(x, ids, 32, approximate_from=len(x) + 1)
    two = dense.TwoStep(exact)
    queries = np.vstack([x[:40], vectors(40, dim=32, seed=4)])
    for k in (1, 10, 200):
        for q in queries:
            assert _same(two.search(q[None], k), exact.search(q[None], k))
    assert two.fallbacks < len(queries)  # the two steps did answer (most of) them


def test_two_step_runs_the_full_scan_when_half_precision_cannot_tell():
    rng = np.random.default_rng(5)
    base = vectors(1, dim=32, seed=6)
    x = (base + 1e-5 * rng.standard_normal((3000, 32))).astype(np.float32)  # closer than fp16 can say
    exact = dense.build(x, np.arange(3000, dtype=np.int64), 32, approximate_from=10**6)
    two = dense.TwoStep(exact)
    assert _same(two.search(base, 50), exact.search(base, 50)) and two.fallbacks == 1


def test_two_step_runs_the_full_scan_on_a_tie_at_the_kth_score():
    x = vectors(3000, dim=32, seed=7)
    q = x[:1]
    _, (order,) = dense.build(x, np.arange(3000, dtype=np.int64), 32, approximate_from=10**6).search(q, 20)
    x[order[10]] = x[order[9]]  # the 10th and 11th best now score the same
    exact = dense.build(x, np.arange(3000, dtype=np.int64), 32, approximate_from=10**6)
    two = dense.TwoStep(exact)
    assert _same(two.search(q, 10), exact.search(q, 10)) and two.fallbacks == 1
    assert _same(two.search(q, 12), exact.search(q, 12)) and two.fallbacks == 1  # no tie at the 12th


def test_searcher_is_two_step_only_for_a_large_exact_index():
    x, ids = vectors(3000, dim=32), np.arange(3000, dtype=np.int64)
    exact = dense.build(x, ids, 32, approximate_from=10**6)
    assert dense.searcher(exact) is exact  # below TWO_STEP_FROM
    approx = dense.build(x, ids, 32, approximate_from=1)
    assert dense.searcher(approx, two_step_from=100) is approx
    two = dense.searcher(exact, two_step_from=100)
    assert isinstance(two, dense.TwoStep)
    exact.add_with_ids(vectors(10, dim=32, seed=9), np.arange(3000, 3010, dtype=np.int64))  # grown since
    q = x[:1]
    assert _same(two.search(q, 10), exact.search(q, 10)) and two.search(q, 5)[1].shape == (1, 5)


def _serialized(index) -> bytes:
    import faiss

    return faiss.serialize_index(index).tobytes()


def _file_of(x, path):
    out = dense.VectorFile(path, x.shape[1])
    for first in range(0, len(x), 333):  # written a batch at a time, as ingest embeds
        out.write(x[first:first + 333])
    return out


@pytest.mark.parametrize("approximate_from", [1, 10**6])
def test_built_from_a_vector_file_a_block_at_a_time_is_the_same_index(tmp_path, monkeypatch, approximate_from):
    """Exact and IVF (train sample, lists, nprobe), byte for byte, with blocks smaller than the data."""
    monkeypatch.setattr(dense, "BLOCK_ROWS", 1024)
    x = vectors(5000, seed=3)
    x[4000:4100] = x[:100]  # equal vectors: ties among the exact neighbours that choose nprobe
    ids = np.arange(5000, dtype=np.int64) * 3 + 1
    want = dense.build(x, ids, 16, approximate_from=approximate_from)
    got = dense.build(_file_of(x, tmp_path / "v.f32"), ids, 16, approximate_from=approximate_from)
    assert _serialized(got) == _serialized(want)


def test_exact_top_of_a_vector_file_equals_faiss_whole_scan_but_for_ties(tmp_path, monkeypatch):
    """The same neighbours and scores; among vectors tied at the 10th score FAISS' whole scan keeps
    whichever its heap's history leaves, the block-wise scan the last rows."""
    monkeypatch.setattr(dense, "BLOCK_ROWS", 1024)
    x = vectors(6000, seed=4)
    x[3000:3500] = x[:500]  # every query has equal vectors in other blocks
    x[5000:5500] = x[:500]
    queries = x[:500]
    got, want = dense.exact_top(_file_of(x, tmp_path / "v.f32"), queries, 10), dense.exact_top(x, queries, 10)
    scores = np.einsum("qd,qkd->qk", queries, x[want])
    np.testing.assert_array_equal(np.sort(np.einsum("qd,qkd->qk", queries, x[got]), axis=1), np.sort(scores, axis=1))
    for q in range(len(queries)):
        differ = set(got[q].tolist()) ^ set(want[q].tolist())
        assert all(np.isclose(queries[q] @ x[r], scores[q].min(), rtol=0, atol=1e-6) for r in differ)
    assert (got != want).any()  # the ties do come out otherwise: the test sees them
    untied = vectors(6000, seed=5)
    np.testing.assert_array_equal(dense.exact_top(_file_of(untied, tmp_path / "u.f32"), untied[:300], 10),
                                  dense.exact_top(untied, untied[:300], 10))
