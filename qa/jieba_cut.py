"""jieba's search-mode cut (`lcut_for_search`) of one run of Chinese characters, letters and digits,
word for word as jieba 0.42 makes it, in about two thirds of its time (plain jieba is pure Python,
and segmenting is most of an ingest's work; jieba_fast, when installed, is used instead).

jieba builds a dict of every prefix match (get_DAG), then finds the most probable route through it
backwards, taking log(frequency) - log(total) for each candidate word (calc), then joins single
characters no word covers and hands them to its HMM (finalseg). Here the route is found in the same
backward pass that finds the matches, from frequencies' logs computed once per dictionary: the same
sums in the same order, so the same floats and the same choices, ties to the longer word as
jieba's max over (score, end) does. tests/test_lexical.py compares the words with jieba's own.

The HMM's search (finalseg.viterbi: four states, each reached from two) is `hmm_cut`'s, with the
same sums and the same tie rule but without a list of candidates, a max() and a copied path per
state and character: the same words in about a third of the time (tests/test_jieba_cut.py).
"""

from __future__ import annotations

from math import log

_ABSENT = object()


def hmm_cut(sentence: str) -> list[str]:
    """list(jieba.finalseg.cut(sentence)): its runs of Chinese characters cut by the HMM, the rest
    by its letters-and-digits pattern; words in finalseg's Force_Split_Words given a character at a
    time, as it does."""
    from jieba import finalseg

    if finalseg.re_han.fullmatch(sentence):  # the usual case: one run, no split needed
        blocks = ("", sentence, "")
    else:
        blocks = finalseg.re_han.split(sentence)  # the other runs between the Chinese ones
    out = []
    for n, blk in enumerate(blocks):
        if n % 2:  # a run of Chinese characters (re_han has a group: they are the odd pieces)
            words = _hmm_words(blk, finalseg)
            forced = finalseg.Force_Split_Words
            if forced:
                for word in words:
                    if word in forced:
                        out.extend(word)
                    else:
                        out.append(word)
            else:
                out += words
        elif blk:
            out.extend(x for x in finalseg.re_skip.split(blk) if x)
    return out


B, M, S, E = 0, 1, 2, 3  # finalseg's states: begins a word, continues it, a word alone, ends it


def _hmm_words(sentence: str, finalseg) -> list[str]:
    """finalseg's __cut: the words of the states viterbi gives each character."""
    words, begin, nexti = [], 0, 0
    for i, pos in enumerate(_viterbi(sentence, finalseg)):
        if pos == B:
            begin = i
        elif pos == E:
            words.append(sentence[begin:i + 1])
            nexti = i + 1
        elif pos == S:
            words.append(sentence[i])
            nexti = i + 1
    if nexti < len(sentence):
        words.append(sentence[nexti:])
    return words


def _viterbi(obs: str, finalseg) -> list[int]:
    """finalseg.viterbi(obs, "BMES", start_P, trans_P, emit_P)'s states. jieba scores state y of
    each character as max((V[y0] + trans[y0].get(y, MIN_FLOAT) + emit[y].get(char, MIN_FLOAT), y0)
    for y0 in PrevStatus[y]): the same sums, left to right, and the same choice, a tie to the
    greater y0 ("S" over "E", "M" over "B")."""
    low = finalseg.MIN_FLOAT
    start, trans, emit = finalseg.start_P, finalseg.trans_P, finalseg.emit_P
    eb, em, ee, es = emit["B"].get, emit["M"].get, emit["E"].get, emit["S"].get
    tb, tm, te, ts = trans["B"], trans["M"], trans["E"], trans["S"]
    # each state's two states before it (finalseg.PrevStatus): B from E or S, M from M or B,
    # S from S or E, E from B or M
    e_b, s_b = te.get("B", low), ts.get("B", low)
    m_m, b_m = tm.get("M", low), tb.get("M", low)
    s_s, e_s = ts.get("S", low), te.get("S", low)
    b_e, m_e = tb.get("E", low), tm.get("E", low)
    first = obs[0]
    vb, vm = start["B"] + eb(first, low), start["M"] + em(first, low)
    ve, vs = start["E"] + ee(first, low), start["S"] + es(first, low)
    back = []  # for each character after the first: the state before each of its states (B, M, S, E)
    for char in obs[1:]:
        x = eb(char, low)
        pe, ps = ve + e_b + x, vs + s_b + x
        nb, fb = (ps, S) if ps >= pe else (pe, E)
        x = em(char, low)
        pm, pb = vm + m_m + x, vb + b_m + x
        nm, fm = (pm, M) if pm >= pb else (pb, B)
        x = es(char, low)
        ps, pe = vs + s_s + x, ve + e_s + x
        ns, fs = (ps, S) if ps >= pe else (pe, E)
        x = ee(char, low)
        pb, pm = vb + b_e + x, vm + m_e + x
        ne, fe = (pm, M) if pm >= pb else (pb, B)
        back.append((fb, fm, fs, fe))
        vb, vm, vs, ve = nb, nm, ns, ne
    state = S if vs >= ve else E
    route = [state]
    for step in reversed(back):
        state = step[state]
        route.append(state)
    route.reverse()
    return route


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
        self.freq, self.total, self.size = freq, total, len(freq)
        logtotal = log(self.total)
        # log(freq) - log(total) of every word, None for a bare prefix (frequency 0): one lookup
        # tells both whether a longer match may follow and what this one scores
        self.score = {w: log(f) - logtotal if f else None for w, f in self.freq.items()}
        self.unknown = log(1) - logtotal  # a character no word starts with: jieba's `or 1`
        self.hmm = hmm_cut

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
            return self.hmm(buf)
        return list(buf)
