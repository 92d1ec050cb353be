import random
from pathlib import Path

import numpy as np
import pytest

from qa import bm25_arrays
from qa.lexical import BM25, tokenize

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def bm25s_own(token_lists):
    """What the project built before: bm25s' own index of the same tokens."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([tokens or ["\x00"] for tokens in token_lists] or [["\x00"]], show_progress=False)
    return retriever


def same_index(ours, theirs):
    """The same scores matrix, the columns matched by token (the vocabularies' orders differ)."""
    a, b = ours.scores, theirs.scores
    assert a["num_docs"] == b["num_docs"]
    assert set(ours.vocab_dict) == set(theirs.vocab_dict)
    for token, j in theirs.vocab_dict.items():
        i = ours.vocab_dict[token]
        if j >= len(b["indptr"]) - 1:  # bm25s' "" token: no column
            assert i >= len(a["indptr"]) - 1
            continue
        ra, rb = slice(a["indptr"][i], a["indptr"][i + 1]), slice(b["indptr"][j], b["indptr"][j + 1])
        np.testing.assert_array_equal(a["indices"][ra], b["indices"][rb])
        np.testing.assert_array_equal(a["data"][ra], b["data"][rb])  # bit for bit, not approximately
    for name in ("data", "indices", "indptr"):
        assert a[name].dtype == b[name].dtype


def passages_of_the_corpus(limit=400):
    texts = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        texts += [text[i:i + 300] for i in range(0, len(text), 200)]
    return texts[:limit]


@pytest.mark.parametrize("token_lists", [
    [],
    [[]],
    [["地铁"]],
    [["地铁", "地铁", "5号线"], [], ["城中村", "地铁"], [], [], ["😀", "mixed", "中英"]],
    [["长江经济带"] * 300, ["长江"]],  # a very long passage of one repeated token
])
def test_edge_cases_score_as_bm25s(token_lists):
    ours = BM25.build(token_lists)
    same_index(ours.retriever, bm25s_own(token_lists))
    for query in (["地铁"], ["城中村", "地铁"], ["长江"], ["\x00"]):
        known = [t for t in query if ours.knows(t)]
        if known:
            np.testing.assert_array_equal(ours.scores(known), bm25s_own(token_lists).get_scores(known).astype(np.float32))


@pytest.mark.parametrize("keep_pairs", [True, False])
def test_the_bundled_corpus_scores_as_bm25s_in_small_slices(monkeypatch, keep_pairs):
    token_lists = [tokenize(t) for t in passages_of_the_corpus()]
    rng = random.Random(0)
    for i in rng.sample(range(len(token_lists)), 20):
        token_lists[i] = []
    monkeypatch.setattr(bm25_arrays, "CHUNK_TOKENS", 997)  # many slices, split at odd places
    monkeypatch.setattr(bm25_arrays, "KEEP_PAIRS_TOKENS", 10**9 if keep_pairs else 0)  # counted once or twice
    ours = BM25.build(token_lists)
    theirs = bm25s_own(token_lists)
    same_index(ours.retriever, theirs)
    for query in ([t for tokens in token_lists[:5] for t in tokens[:3]], ["经济", "增长"], ["城中村改造"]):
        known = [t for t in query if ours.knows(t)]
        np.testing.assert_array_equal(ours.scores(known), theirs.get_scores(known).astype(np.float32))
    assert ours.tokens_of(range(len(token_lists))) == token_lists


def test_saved_and_loaded_it_searches_the_same(tmp_path):
    token_lists = [tokenize(t) for t in passages_of_the_corpus(100)]
    ours = BM25.build(token_lists)
    ours.save(tmp_path)
    loaded = BM25.load(tmp_path)
    query = tokenize("地区生产总值增长多少")
    np.testing.assert_array_equal(loaded.scores(query), ours.scores(query))
    assert loaded.tokens_of([3]) == [token_lists[3]]


def test_carried_rows_and_new_passages_index_as_one_built_from_all_their_tokens(tmp_path):
    token_lists = [tokenize(t) for t in passages_of_the_corpus(120)]
    token_lists[7] = []
    old = BM25.build(token_lists)
    old.save(tmp_path)
    old = BM25.load(tmp_path)  # mapped, as ingest finds it
    rows = np.array([i for i in range(len(token_lists)) if i % 3], dtype=np.int64)
    fresh = [["新词甲", "地铁"], [], tokenize("城中村改造完成拆迁和整治5500户")]
    carried = old.carry(rows, fresh)
    expected = [token_lists[i] for i in rows] + fresh
    same_index(carried.retriever, bm25s_own(expected))
    assert carried.tokens_of(range(len(expected))) == expected
    gone = set(t for i in range(0, len(token_lists), 3) for t in token_lists[i]) - set(t for e in expected for t in e)
    assert gone and not any(carried.knows(t) for t in gone)  # words only dropped passages had are unknown now
    assert BM25(old.retriever).carry(rows, fresh) is None  # an index that kept no tokens
