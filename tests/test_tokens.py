import numpy as np
import pytest

from qa import tokens
from qa.lexical import BM25, tokenize

TEXTS = ["城中村改造完成拆迁和整治5500户。", "", "地铁 line 5 号线 2024", "全區經濟穩步增長 😀", "的了和",
         "一、城中村改造\n城中村改造完成拆迁。新建安置房100万平方米。", "一、城中村改造\n新建安置房100万平方米。地铁开工。"] * 5
GROUPS = [n // 3 for n in range(len(TEXTS))]  # three texts a report


def _expected():
    vocab: dict[str, int] = {}
    rows = [[vocab.setdefault(t, len(vocab)) for t in tokenize(text)] for text in TEXTS]
    return np.array([i for r in rows for i in r], np.int32), np.cumsum([0] + [len(r) for r in rows]), list(vocab)


@pytest.mark.parametrize("pooled", [False, True])
def test_segmenting_gives_every_text_its_tokens_in_one_vocabulary(monkeypatch, pooled):
    """In this process or in two workers, in chunks: the ids, starts and words of tokenizing each
    text alone, words numbered in the order they first occur."""
    if pooled:
        monkeypatch.setattr(tokens, "POOL_MIN", 10)
        monkeypatch.setattr(tokens, "POOL_CHUNK", 4)
    job = tokens.Segmenting.start(iter(TEXTS), len(TEXTS), iter(GROUPS), processes=2)
    assert (job.thread is not None) == pooled
    ids, starts, words = job.result()
    want_ids, want_starts, want_words = _expected()
    assert words == want_words and ids.dtype == np.int32 and starts.dtype == np.int64
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(starts, want_starts)
    built, ours = BM25.build([tokenize(t) for t in TEXTS]), BM25.from_ids(ids, starts, words)
    for key in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(built.retriever.scores[key], ours.retriever.scores[key])


def test_few_texts_are_segmented_with_few_cuts_as_with_the_whole_dictionary(monkeypatch, tmp_path):
    """A few texts (a changed report) are cut with qa.lexical.few_cuts' lexicon entries when it
    gives them: the same ids, starts and words. Here the lexicon is one written from this process'
    jieba (few_cuts itself declines once jieba is loaded: tests/test_lexical.py)."""
    from qa import jieba_lexicon, lexical
    from qa.jieba_cut import Cutter

    jieba = lexical._jieba()
    jieba_lexicon.write(tmp_path / "lexicon.npz", jieba.dt.FREQ, jieba.dt.total, jieba.posseg.dt.word_tag_tab)
    lexicon = jieba_lexicon.Lexicon(tmp_path / "lexicon.npz")
    asked = []

    def few_cuts(texts):
        asked.append(len(texts))
        blocks = [piece for t in texts for piece in lexical._pieces(t)[1::2]]
        return jieba.lcut_for_search, Cutter.of(lexicon.entries(blocks), lexicon.total)

    monkeypatch.setattr(tokens, "few_cuts", few_cuts)
    ids, starts, words = tokens.Segmenting.start(iter(TEXTS), len(TEXTS), iter(GROUPS), processes=2).result()
    assert asked == [len(TEXTS)]
    want_ids, want_starts, want_words = _expected()
    assert words == want_words
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(starts, want_starts)


def test_a_worker_failure_is_raised_by_result(monkeypatch):
    monkeypatch.setattr(tokens, "POOL_MIN", 1)
    job = tokens.Segmenting.start(iter([1, 2, 3]), 3, processes=2)  # not texts: tokenize fails in the worker
    with pytest.raises(Exception):
        job.result()


def test_no_texts():
    ids, starts, words = tokens.Segmenting.start(iter([]), 0).result()
    assert len(ids) == 0 and starts.tolist() == [0] and words == []


def test_carry_ids_equals_carry():
    old = BM25.build([tokenize(t) for t in TEXTS[:6]])
    fresh = [tokenize(t) for t in TEXTS[6:9]]
    ids, starts, words = tokens.Segmenting.start(iter(TEXTS[6:9]), 3).result()
    rows = np.array([0, 2, 5])
    a, b = old.carry(rows, fresh), old.carry_ids(rows, ids, starts, words)
    assert a.retriever.vocab_dict == b.retriever.vocab_dict
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    for key in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(a.retriever.scores[key], b.retriever.scores[key])


def test_stop_hands_out_no_more_chunks(monkeypatch):
    monkeypatch.setattr(tokens, "POOL_MIN", 1)
    monkeypatch.setattr(tokens, "POOL_CHUNK", 1)
    handed = []

    def texts():
        for n in range(10_000):
            handed.append(n)
            yield "城中村改造完成拆迁。"

    job = tokens.Segmenting.start(texts(), 10_000, processes=2)
    job.stop()
    assert not job.thread.is_alive() and len(handed) < 10_000
