"""jieba's prefix dictionary (its FREQ, user words included) as sorted arrays on disk, looked up
for the few texts of a small job instead of loaded whole.

An ingest that changed one report segments a few dozen passages, but loading jieba's dictionary
(half a million words: its marshal cache, then qa.jieba_cut's scores) takes about half a second,
most of that ingest's time. qa.jieba_cut only ever asks for substrings of the blocks it cuts, so
the entries of those substrings (`Lexicon.entries`) make a dictionary that cuts them into the same
words as the whole one (tests/test_lexical.py).

The file is an .npz of one sorted array of words per length ("w1", "w2", ...; numpy's fixed-width
unicode, so a few MB) with their frequencies ("f1", ...), jieba's total ("total"), and the same for
jieba.posseg's tags ("tw2", ... and "tt2", ...), which describing a report may ask for
(qa.places.most_named_place): no pickles.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def write(path: Path, freq: dict[str, int], total: int, tags: dict[str, str]) -> None:
    """The lexicon of a jieba dictionary (its FREQ, total and posseg's word_tag_tab) into path
    (written whole, then moved into place)."""
    arrays = {"total": np.array([total], np.int64)}
    for n, words in _by_length(freq).items():
        arrays[f"w{n}"] = np.array(words, dtype=f"U{n}")
        arrays[f"f{n}"] = np.array([freq[w] for w in words], np.int64)
    for n, words in _by_length(tags).items():
        arrays[f"tw{n}"] = np.array(words, dtype=f"U{n}")
        arrays[f"tt{n}"] = np.array([tags[w] for w in words], dtype="U")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _by_length(table: dict) -> dict[int, list[str]]:
    """The keys of a table by length, each list sorted: code point order, which numpy's comparisons
    of its unicode arrays share."""
    out: dict[int, list[str]] = {}
    for word in table:
        out.setdefault(len(word), []).append(word)
    return {n: sorted(words) for n, words in out.items()}


class Lexicon:
    """A written lexicon, its arrays read when first asked for."""

    def __init__(self, path: Path):
        self.file = np.load(Path(path), allow_pickle=False)
        self.total = int(self.file["total"][0])
        self.longest = max((int(k[1:]) for k in self.file.files if k.startswith("w")), default=0)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.has_tags = any(k.startswith("tw") for k in self.file.files)  # not in a lexicon of words only

    def entries(self, blocks) -> dict[str, int]:
        """The dictionary's entries (word: frequency, 0 for a bare prefix) among the substrings of
        these blocks. Every prefix of a word is an entry (jieba adds them), so a substring is looked
        up only when the one a character shorter was found: a few lookups per character."""
        found: dict[str, int] = {}
        starts = [(block, k) for block in set(blocks) for k in range(len(block))]
        n = 1
        while starts and n <= self.longest:
            starts = [(b, k) for b, k in starts if k + n <= len(b)]
            hits = self._lookup("w", "f", n, {b[k:k + n] for b, k in starts})
            found.update(hits)
            starts = [(b, k) for b, k in starts if b[k:k + n] in hits]
            n += 1
        return found

    def tags(self, words) -> dict[str, str]:
        """posseg's tags (word_tag_tab) of those of these words that have one."""
        by_length: dict[int, set[str]] = {}
        for word in words:
            by_length.setdefault(len(word), set()).add(word)
        found: dict[str, str] = {}
        for n, grams in by_length.items():
            found.update(self._lookup("tw", "tt", n, grams))
        return found

    def _lookup(self, keys: str, values: str, n: int, grams: set[str]) -> dict:
        """The entries among these strings of length n, in the arrays named keys+n and values+n."""
        if not grams or f"{keys}{n}" not in self.file.files:
            return {}
        name = f"{keys}{n}"
        if name not in self._arrays:
            self._arrays[name] = (self.file[name], self.file[f"{values}{n}"])
        words, found = self._arrays[name]
        asked = np.array(sorted(grams), dtype=f"U{n}")
        at = np.minimum(np.searchsorted(words, asked), len(words) - 1)
        hit = words[at] == asked
        return dict(zip(asked[hit].tolist(), found[at[hit]].tolist()))
