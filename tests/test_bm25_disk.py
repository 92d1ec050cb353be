"""The BM25 index built on disk (qa/bm25_disk.py) against the one built in memory and saved by bm25s."""
import numpy as np
import pytest

from qa import bm25_arrays, bm25_disk
from qa.lexical import BM25, tokenize


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _token_file(path, ids, starts, chunk=7):
    """A TokenFile fed a few texts at a time, each chunk's ids into its own words (as workers send)."""
    out = bm25_disk.TokenFile(path)
    lengths = np.diff(starts)
    for first in range(0, len(lengths), chunk):
        chunk_ids = ids[starts[first]:starts[min(len(lengths), first + chunk)]]
        words, local = np.unique(chunk_ids, return_inverse=True)
        out.add([f"w{w}" for w in words.tolist()], local.astype(np.int32), lengths[first:first + chunk])
    return out.close()


def _random_corpus(rng, n_docs, n_words, empty_share=0.1):
    lengths = rng.integers(0, 40, n_docs) * (rng.random(n_docs) > empty_share)
    ids = rng.zipf(1.3, int(lengths.sum())) % n_words
    return ids.astype(np.int32), np.r_[0, np.cumsum(lengths)].astype(np.int64)


@pytest.mark.parametrize("n_docs,chunk_tokens,block_pairs", [
    (1, 1 << 22, 1 << 22), (5, 3, 2), (300, 64, 50), (300, 1 << 22, 1 << 22), (2000, 500, 97)])
def test_built_on_disk_equals_built_in_memory_byte_for_byte(tmp_path, monkeypatch, n_docs, chunk_tokens, block_pairs):
    """Small slices and blocks force many runs, and tokens split across blocks; empty passages get
    bm25s' placeholder token, as BM25.from_ids gives them."""
    monkeypatch.setattr(bm25_disk, "CHUNK_TOKENS", chunk_tokens)
    monkeypatch.setattr(bm25_arrays, "CHUNK_TOKENS", chunk_tokens)
    monkeypatch.setattr(bm25_disk, "BLOCK_PAIRS", block_pairs)
    rng = np.random.default_rng(n_docs)
    raw, starts = _random_corpus(rng, n_docs, 500)
    disk = tmp_path / "disk"
    disk.mkdir()
    starts_out, words = _token_file(disk / "tokens.npy", raw, starts)
    bm25_disk.write_index(disk, disk / "tokens.npy", starts_out, words)

    vocab = {w: i for i, w in enumerate(words)}
    ids = np.array([vocab[f"w{w}"] for w in raw.tolist()], np.int32)
    memory = tmp_path / "memory"
    monkeypatch.setattr(bm25_arrays, "KEEP_PAIRS_TOKENS", 0 if n_docs == 300 else 10**9)
    BM25.from_ids(ids, starts, words).save(memory)
    assert _files(disk) == _files(memory)
    loaded = BM25.load(disk)
    np.testing.assert_array_equal(loaded.token_ids, ids)


def test_texts_segmented_into_a_file_score_as_in_memory(tmp_path):
    from qa import tokens

    texts = ["城中村改造完成拆迁和整治5500户。", "", "地铁 line 5 号线 2024", "全區經濟穩步增長 😀"] * 3
    built = BM25.build([tokenize(t) for t in texts])
    job = tokens.Segmenting.start(iter(texts), len(texts), out=tmp_path / "tokens.npy")
    ids, starts, words = job.result()
    bm25_disk.write_index(tmp_path, tmp_path / "tokens.npy", starts, words)
    built.save(tmp_path / "memory")
    assert _files(tmp_path / "memory") == {k: v for k, v in _files(tmp_path).items() if k != "memory"}


@pytest.mark.parametrize("rows", [[0, 2, 5], [], [0, 1, 2, 3, 4, 5], [3]])
def test_carry_on_disk_equals_carry_ids(tmp_path, monkeypatch, rows):
    monkeypatch.setattr(bm25_disk, "CHUNK_TOKENS", 5)
    texts = ["城中村改造完成拆迁。", "", "地铁 line 5 号线", "全區經濟穩步增長", "新建安置房100万平方米。地铁开工。", "的了和",
             "一、城中村改造\n新建安置房。", "口袋公园四十二个"]
    old = BM25.build([tokenize(t) for t in texts[:6]])
    old.save(tmp_path / "old")
    old = BM25.load(tmp_path / "old")
    fresh_file = bm25_disk.TokenFile(tmp_path / "fresh.npy")
    fresh_file.add(*_chunk(texts[6:]))
    fresh_starts, fresh_words = fresh_file.close()
    fresh_ids = np.load(tmp_path / "fresh.npy")
    want = old.carry_ids(np.array(rows, np.int64), fresh_ids, fresh_starts, fresh_words)
    (tmp_path / "new").mkdir()
    starts, words = bm25_disk.carry(tmp_path / "old" / "tokens.npy", old.token_starts, old._words(), np.array(rows),
                                    tmp_path / "fresh.npy", fresh_starts, fresh_words, tmp_path / "new" / "tokens.npy")
    bm25_disk.write_index(tmp_path / "new", tmp_path / "new" / "tokens.npy", starts, words)
    want.save(tmp_path / "want")
    assert _files(tmp_path / "new") == _files(tmp_path / "want")


def _chunk(texts):
    from qa.tokens import chunk_ids

    return chunk_ids(texts, range(len(texts)))
