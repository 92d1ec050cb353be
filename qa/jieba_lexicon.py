"""jieba's prefix dictionary (its FREQ, user words included) as sorted arrays on disk, looked up
for the few texts of a small job instead of loaded whole.

An ingest that changed one report segments a few dozen passages, but loading jieba's dictionary
(half a million words: its marshal cache, then qa.jieba_cut's scores) takes about half a second,
most of that ingest's time. qa.jieba_cut only ever asks for substrings of the blocks it cuts, so
the entries of those substrings (`Lexicon.entries`) make a dictionary that cuts them into the same
words as the whole one (tests/test_lexical.py).

The file is an .npz of one sorted array of words per length ("w1", "w2", ...; numpy's fixed-width
unicode, so a few MB) with their frequencies ("f1", ...) and jieba's total ("total"): no pickles.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def write(path: Path, freq: dict[str, int], total: int) -> None:
    """The lexicon of a jieba dictionary into path (written whole, then moved into place)."""
    by_length: dict[int, list[str]] = {}
    for word in freq:
        by_length.setdefault(len(word), []).append(word)
    arrays = {"total": np.array([total], np.int64)}
    for n, words in by_length.items():
        words.sort()  # code point order, which numpy's comparisons of its unicode arrays share
        arrays[f"w{n}"] = np.array(words, dtype=f"U{n}")
        arrays[f"f{n}"] = np.array([freq[w] for w in words], np.int64)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Lexicon:
    """A written lexicon, its arrays read when first asked for."""

    def __init__(self, path: Path):
        self.file = np.load(Path(path), allow_pickle=False)
        self.total = int(self.file["total"][0])
        self.longest = max((int(k[1:]) for k in self.file.files if k.startswith("w")), default=0)
        self._arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def entries(self, blocks) -> dict[str, int]:
        """The dictionary's entries (word: frequency, 0 for a bare prefix) among the substrings of
        these blocks. Every prefix of a word is an entry (jieba adds them), so a substring is looked
        up only when the one a character shorter was found: a few lookups per character."""
        found: dict[str, int] = {}
        starts = [(block, k) for block in set(blocks) for k in range(len(block))]
        n = 1
        while starts and n <= self.longest:
            starts = [(b, k) for b, k in starts if k + n <= len(b)]
            hits = self._lookup(n, {b[k:k + n] for b, k in starts})
            found.update(hits)
            starts = [(b, k) for b, k in starts if b[k:k + n] in hits]
            n += 1
        return found

    def _lookup(self, n: int, grams: set[str]) -> dict[str, int]:
        """The entries among these strings of length n."""
        if not grams or f"w{n}" not in self.file.files:
            return {}
        if n not in self._arrays:
            self._arrays[n] = (self.file[f"w{n}"], self.file[f"f{n}"])
        words, freqs = self._arrays[n]
        asked = np.array(sorted(grams), dtype=f"U{n}")
        at = np.minimum(np.searchsorted(words, asked), len(words) - 1)
        hit = words[at] == asked
        return dict(zip(asked[hit].tolist(), freqs[at[hit]].tolist()))
