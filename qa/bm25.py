"""The BM25 index over the passages' jieba tokens (qa/lexical.py makes the tokens): bm25s' arrays,
mapped when loaded (a question touches its own words' postings only), built with numpy
(qa/bm25_arrays.py), and each passage's tokens kept as ids so that a re-ingest segments only new
or changed reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _ids(token_lists, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(token ids, start of each passage's ids) of token lists (any iterable), new words added to
    vocab; 4 bytes a token, not a Python list's 8 and more."""
    from array import array

    ids, lengths = array("i"), array("q", [0])
    for tokens in token_lists:
        ids.extend([vocab.setdefault(t, len(vocab)) for t in tokens])
        lengths.append(len(tokens))
    return np.frombuffer(ids, np.int32).copy() if ids else np.zeros(0, np.int32), np.cumsum(lengths, dtype=np.int64)


class BM25:
    """bm25s index over passage tokens; scores every passage for a query. It keeps each passage's
    tokens too (ids into its vocabulary, tokens.npy and token_starts.npy beside bm25s' arrays), so
    that an ingest that changes a few reports does not segment the others again."""

    def __init__(self, retriever, token_ids: np.ndarray | None = None, token_starts: np.ndarray | None = None):
        self.retriever = retriever
        self.token_ids, self.token_starts = token_ids, token_starts
        self.folder: Path | None = None  # where it was loaded from
        self.built_in: Path | None = None  # where it was built on disk (qa/bm25_disk.py): saved by linking

    @classmethod
    def build(cls, token_lists) -> "BM25":
        """The index of passages of these tokens (lists of strings, any iterable)."""
        vocab: dict[str, int] = {}
        ids, starts = _ids(token_lists, vocab)
        return cls.from_ids(ids, starts, list(vocab))

    @classmethod
    def from_ids(cls, ids: np.ndarray, starts: np.ndarray, words: list[str]) -> "BM25":
        """The index of passages whose tokens are words[ids[starts[i]:starts[i + 1]]] (qa/bm25_arrays.py
        computes what bm25s would)."""
        import bm25s

        from qa.bm25_arrays import score_arrays

        # bm25s cannot index an empty corpus or an empty passage; a placeholder token keeps rows aligned
        vocab = {word: i for i, word in enumerate(words)}
        scored_ids, scored_starts = ids, starts
        empty = np.flatnonzero(np.diff(starts) == 0) if len(starts) > 1 else np.zeros(1, np.int64)
        if len(empty):
            placeholder = vocab.setdefault("\x00", len(vocab))
            scored_ids = np.insert(ids, starts[empty], placeholder).astype(np.int32)
            scored_starts = (starts + np.searchsorted(empty, np.arange(len(starts)), side="left")
                             if len(starts) > 1 else np.array([0, 1], np.int64))
        retriever = bm25s.BM25()
        retriever.scores = score_arrays(scored_ids, scored_starts, len(vocab))
        retriever.nonoccurrence_array = None
        vocab.setdefault("", len(vocab))  # bm25s' empty token, which no passage has
        retriever.vocab_dict = vocab
        retriever.unique_token_ids_set = set(vocab.values())
        return cls(retriever, ids, starts)

    def carry(self, rows: np.ndarray, token_lists) -> "BM25 | None":
        """The index of these passage rows of this one, as they were indexed, followed by passages
        of these tokens; None when this index did not keep its tokens. Words no passage has any
        more leave the vocabulary, as in an index built from all the tokens."""
        vocab: dict[str, int] = {}
        fresh, fresh_starts = _ids(token_lists, vocab)
        return self.carry_ids(rows, fresh, fresh_starts, list(vocab))

    def carry_ids(self, rows: np.ndarray, fresh: np.ndarray, fresh_starts: np.ndarray,
                  fresh_words: list[str]) -> "BM25 | None":
        """`carry`, the new passages' tokens given as ids into fresh_words (qa/tokens.py)."""
        if self.token_ids is None:
            return None
        rows = np.asarray(rows, dtype=np.int64)
        starts, lengths = self.token_starts[rows], self.token_starts[rows + 1] - self.token_starts[rows]
        offsets = np.cumsum(np.r_[0, lengths]).astype(np.int64)
        kept = np.asarray(self.token_ids)[np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])]
        words = self._words()
        used = np.zeros(len(words), bool)
        used[kept] = True
        new_id = np.cumsum(used) - 1
        words = [w for w, u in zip(words, used.tolist()) if u]
        vocab = {w: i for i, w in enumerate(words)}
        # the new words after the kept ones, in the order they first occur: as _ids would number them
        mapping = np.array([vocab.setdefault(w, len(vocab)) for w in fresh_words], dtype=np.int32)
        fresh = mapping[fresh] if len(fresh) else np.zeros(0, np.int32)
        ids = np.concatenate([new_id[kept].astype(np.int32), fresh])
        return BM25.from_ids(ids, np.concatenate([offsets, offsets[-1] + fresh_starts[1:]]), list(vocab))

    def _words(self) -> list[str]:
        vocab = self.retriever.vocab_dict
        words = [""] * (max(vocab.values(), default=-1) + 1)
        for word, i in vocab.items():
            words[i] = word
        return words

    @classmethod
    def build_on_disk(cls, folder: Path, tokens: Path, starts: np.ndarray, words: list[str]) -> "BM25":
        """The index from_ids would make, written into folder a block at a time (qa/bm25_disk.py)
        from token ids already in the .npy file `tokens`, which is moved into it; then loaded,
        mapped. No passage: built in memory."""
        from qa import bm25_disk

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if len(starts) < 2:
            return cls.from_ids(np.zeros(0, np.int32), np.asarray(starts, dtype=np.int64), words)
        if Path(tokens) != folder / "tokens.npy":
            Path(tokens).replace(folder / "tokens.npy")
        bm25_disk.write_index(folder, folder / "tokens.npy", starts, words)
        built = cls.load(folder)
        built.built_in = folder
        return built

    def save(self, folder: Path) -> None:
        if self.built_in is not None:  # its files are on disk already: linked, not written again
            from qa.bm25_disk import link_or_copy

            Path(folder).mkdir(parents=True, exist_ok=True)
            for path in sorted(self.built_in.iterdir()):
                if path.is_file():
                    link_or_copy(path, Path(folder) / path.name)
            return
        self.retriever.save(str(folder), show_progress=False)
        if self.token_ids is not None:
            np.save(Path(folder) / "tokens.npy", self.token_ids)
            np.save(Path(folder) / "token_starts.npy", self.token_starts)

    @classmethod
    def load(cls, folder: Path) -> "BM25":
        import bm25s

        # mapped, not read: a question touches the postings of its own words only
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0, mmap=True)
        folder = Path(folder)
        if (folder / "tokens.npy").is_file() and (folder / "token_starts.npy").is_file():
            loaded = cls(retriever, np.load(folder / "tokens.npy", mmap_mode="r", allow_pickle=False),
                         np.load(folder / "token_starts.npy", mmap_mode="r", allow_pickle=False))
        else:
            loaded = cls(retriever)
        loaded.folder = folder
        return loaded

    def tokens_of(self, rows) -> list[list[str]] | None:
        """The tokens of these passage rows as they were indexed; None when they were not kept."""
        if self.token_ids is None:
            return None
        words = self._words()
        starts = self.token_starts
        return [[words[i] for i in self.token_ids[starts[r]:starts[r + 1]].tolist()] for r in rows]

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.retriever.vocab_dict]
        if not known:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return self.retriever.get_scores(known).astype(np.float32, copy=False)

    def _postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """bm25s' (indptr, indices, data) as plain arrays: slices of a numpy.memmap pay for the
        subclass on every slice."""
        if getattr(self, "_postings_cache", None) is None:
            s = self.retriever.scores
            self._postings_cache = tuple(np.asarray(s[k]).view(np.ndarray) for k in ("indptr", "indices", "data"))
        return self._postings_cache

    def contains(self, tokens: list[str], rows: np.ndarray) -> np.ndarray:
        """(rows × tokens) whether each passage row holds each token: a binary search in each
        token's postings (kept token by token, passage rows ascending)."""
        out = np.zeros((len(rows), len(tokens)), dtype=bool)
        vocab, (indptr, indices, _) = self.retriever.vocab_dict, self._postings()
        for j, token in enumerate(tokens):
            i = vocab.get(token)
            if i is None or i + 1 >= len(indptr):
                continue
            posting = indices[indptr[i]:indptr[i + 1]]
            if len(posting):
                at = np.minimum(np.searchsorted(posting, rows), len(posting) - 1)
                out[:, j] = posting[at] == rows
        return out

    def idf(self, token: str) -> float:
        """Inverse document frequency; a word no passage has gets the largest value."""
        n = self.retriever.scores["num_docs"]
        df = self._df().get(token, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def knows(self, token: str) -> bool:
        return token in self.retriever.vocab_dict

    def _df(self) -> dict[str, int]:
        if not hasattr(self, "_df_cache"):
            counts = np.diff(self.retriever.scores["indptr"])
            self._df_cache = {tok: int(counts[i]) for tok, i in self.retriever.vocab_dict.items()
                              if i < len(counts)}
        return self._df_cache
