"""jieba's search-mode cut (`lcut_for_search`) of one run of Chinese characters, letters and digits,
word for word as jieba 0.42 makes it, in about two thirds of its time (plain jieba is pure Python,
and segmenting is most of an ingest's work; jieba_fast, when installed, is used instead).

jieba builds a dict of every prefix match (get_DAG), then finds the most probable route through it
backwards, taking log(frequency) - log(total) for each candidate word (calc), then joins single
characters no word covers and hands them to its HMM (finalseg). Here the route is found in the same
backward pass that finds the matches, from frequencies' logs computed once per dictionary: the same
sums in the same order, so the same floats and the same choices, ties to the longer word as
jieba's max over (score, end) does. tests/test_lexical.py compares the words with jieba's own.
"""

from __future__ import annotations

from math import log

_ABSENT = object()


class Cutter:
    """The cut for one jieba Tokenizer's dictionary (its FREQ and total, user words included)."""

    def __init__(self, tokenizer):
        tokenizer.check_initialized()
        self._scored(tokenizer.FREQ, tokenizer.total)

    @classmethod
    def of(cls, freq: dict[str, int], total: int) -> "Cutter":
        """The cut for a dictionary given as its words' frequencies and jieba's total: a part of
        one (qa/jieba_lexicon.py) cuts the blocks whose substrings it holds as the whole would."""
        cutter = cls.__new__(cls)
        cutter._scored(freq, total)
        return cutter

    def _scored(self, freq: dict[str, int], total: int) -> None:
        from jieba import finalseg

        self.freq, self.total, self.size = freq, total, len(freq)
        logtotal = log(self.total)
        # log(freq) - log(total) of every word, None for a bare prefix (frequency 0): one lookup
        # tells both whether a longer match may follow and what this one scores
        self.score = {w: log(f) - logtotal if f else None for w, f in self.freq.items()}
        self.unknown = log(1) - logtotal  # a character no word starts with: jieba's `or 1`
        self.hmm = finalseg.cut

    def current(self, tokenizer) -> bool:
        """Whether the dictionary is still the one scored (words may be added later)."""
        return tokenizer.FREQ is self.freq and tokenizer.total == self.total and len(tokenizer.FREQ) == self.size

    def __call__(self, block: str) -> list[str]:
        out = []
        freq = self.freq
        for word in self._words(block):
            n = len(word)
            if n > 2:
                out += [word[i:i + 2] for i in range(n - 1) if freq.get(word[i:i + 2])]
            if n > 3:
                out += [word[i:i + 3] for i in range(n - 2) if freq.get(word[i:i + 3])]
            out.append(word)
        return out

    def _words(self, sentence: str) -> list[str]:
        """jieba's Tokenizer.__cut_DAG (with the HMM) of a block."""
        score, n = self.score, len(sentence)
        best = [0.0] * (n + 1)  # route[x][0]
        end = list(range(n + 1))  # route[x][1]
        for k in range(n - 1, -1, -1):
            top, last = None, k
            i, frag = k, sentence[k]
            while i < n:
                s = score.get(frag, _ABSENT)
                if s is _ABSENT:
                    break
                if s is not None:
                    value = s + best[i + 1]
                    if top is None or value >= top:  # i rises: a tie goes to the later end, as max does
                        top, last = value, i
                i += 1
                frag = sentence[k:i + 1]
            if top is None:  # no word starts here: the character alone
                s = score.get(sentence[k])
                top = (self.unknown if s is None else s) + best[k + 1]
            best[k], end[k] = top, last
        words, buf, x = [], "", 0
        while x < n:
            y = end[x] + 1
            if y - x == 1:
                buf += sentence[x]
            else:
                if buf:
                    words += self._single(buf)
                    buf = ""
                words.append(sentence[x:y])
            x = y
        if buf:
            words += self._single(buf)
        return words

    def _single(self, buf: str) -> list[str]:
        """Characters the route left alone: the HMM's words when they are not a dictionary word."""
        if len(buf) == 1:
            return [buf]
        if not self.freq.get(buf):
            return list(self.hmm(buf))
        return list(buf)
