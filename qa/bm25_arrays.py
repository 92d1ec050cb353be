"""BM25 scores of a tokenized corpus, computed with numpy, in the arrays bm25s keeps and searches.

bm25s builds its index in Python: a vocabulary set, a list of ids per passage, a Counter per
passage. At a million passages those lists alone take several gigabytes and most of a minute.
Here the passages arrive as one array of token ids and their start offsets (what BM25 keeps for
re-ingest anyway, qa/lexical.py), and the same numbers come out, value for value: bm25s' "lucene"
variant (k1 1.5, b 0.75) with its float32/float64 steps, in its CSC layout (a column per token,
rows by passage) — tests/test_bm25_arrays.py compares them with bm25s' own.
"""

from __future__ import annotations

import math

import numpy as np

K1, B = 1.5, 0.75
CHUNK_TOKENS = 1 << 22  # tokens per slice of passages: the temporary arrays stay at a few hundred MB
KEEP_PAIRS_TOKENS = 50_000_000  # up to this many tokens (~330k passages) each slice's pairs, counted
# for the document frequencies, are kept for the scores (12 bytes a pair) instead of counted again


def _slices(starts: np.ndarray):
    """(first, last) passage ranges of about CHUNK_TOKENS tokens each."""
    n = len(starts) - 1
    first = 0
    while first < n:
        last = int(np.searchsorted(starts, starts[first] + CHUNK_TOKENS, side="right")) - 1
        last = min(n, max(last, first + 1))
        yield first, last
        first = last


def _pairs(ids: np.ndarray, starts: np.ndarray, first: int, last: int, n_docs: int):
    """The distinct (token, passage) pairs of passages first..last-1, ordered by token then passage,
    and how often each token occurs in its passage."""
    tokens = np.asarray(ids[starts[first]:starts[last]], dtype=np.int64)
    docs = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(starts[first:last + 1]))
    keys, tf = np.unique(tokens * n_docs + docs, return_counts=True)
    return keys // n_docs, keys % n_docs, tf


def score_arrays(ids: np.ndarray, starts: np.ndarray, n_vocab: int) -> dict:
    """bm25s' `scores` dict (data, indices, indptr, num_docs) for passages whose tokens are
    ids[starts[i]:starts[i + 1]] (token ids below n_vocab; no passage empty)."""
    n_docs = len(starts) - 1
    lengths = np.diff(starts)
    avg_len = lengths.mean()  # as bm25s takes it: numpy's mean of the int64 lengths
    df = np.zeros(n_vocab, np.int64)
    kept = [] if len(ids) <= KEEP_PAIRS_TOKENS else None
    for first, last in _slices(starts):
        tokens, docs, tf = _pairs(ids, starts, first, last, n_docs)
        df += np.bincount(tokens, minlength=n_vocab)
        if kept is not None:
            kept.append((tokens.astype(np.int32), docs.astype(np.int32), tf.astype(np.int32)))
    idf = np.zeros(n_vocab, np.float32)  # math.log, as bm25s, not numpy's: the same last bit
    for t, d in enumerate(df.tolist()):
        if d:
            idf[t] = math.log(1 + (n_docs - d + 0.5) / (d + 0.5))
    norm = K1 * ((1 - B) + B * lengths / avg_len)  # float64 per passage, as bm25s' scalar
    indptr = np.zeros(n_vocab + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), np.float32)
    rows = np.empty(int(indptr[-1]), np.int32)
    cursor = indptr[:-1].copy()  # where each token's next passages go
    slices = kept if kept is not None else (_pairs(ids, starts, first, last, n_docs) for first, last in _slices(starts))
    for tokens, docs, tf in slices:
        tokens, docs = tokens.astype(np.int64), docs.astype(np.int64)
        tf = tf.astype(np.float32).astype(np.float64)
        begins = np.flatnonzero(np.r_[True, tokens[1:] != tokens[:-1]])  # each token's first pair here
        at = cursor[tokens] + (np.arange(len(tokens)) - np.repeat(begins, np.diff(np.r_[begins, len(tokens)])))
        data[at] = idf[tokens] * (tf / (norm[docs] + tf))
        rows[at] = docs
        cursor[tokens[begins]] += np.diff(np.r_[begins, len(tokens)])
    return {"data": data, "indices": rows, "indptr": indptr, "num_docs": n_docs}
