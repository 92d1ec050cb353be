"""jieba's part-of-speech HMM (jieba.posseg.viterbi) for the runs of characters its dictionary
leaves alone, with the same result in less time: the tags of the chosen sentence's words are part
of every answer's short-answer features (qa/spans.py), and jieba's own search is pure Python.

jieba scores every state y of a character from every state y0 of the one before,
V[y0] + trans[y0].get(y, -inf) + emit[y].get(char, MIN_FLOAT), and keeps max((score, y0)): the best
score, on a tie the greatest y0. Here only the y0 that have a transition to y are scored, with the
same sums in the same order; the others score -inf, which never wins where one of them does not
(jieba's scores are finite otherwise). So the same floats, the same states and the same route.
Where jieba's own search would take another path (no state of a character follows from the one
before, or an empty text), jieba's viterbi is called instead. tests/test_lexical.py compares the two.
"""

from __future__ import annotations

import importlib

MIN_FLOAT = -3.14e100  # jieba.posseg.viterbi's score of a character a state never emits


def viterbi(obs: str, states: dict, start_p: dict, trans_p: dict, emit_p: dict):
    """jieba.posseg.viterbi.viterbi(obs, states, start_p, trans_p, emit_p), faster."""
    jieba_viterbi = importlib.import_module("jieba.posseg.viterbi")  # the module (jieba.posseg.viterbi is its function)
    if not obs:
        return jieba_viterbi.viterbi(obs, states, start_p, trans_p, emit_p)
    all_states = trans_p.keys()
    first = obs[0]
    prev = {y: start_p[y] + emit_p[y].get(first, MIN_FLOAT) for y in states.get(first, all_states)}
    paths = []  # for each character after the first: state → the state before it on its best path
    for char in obs[1:]:
        scored = [(y0, v, trans_p[y0]) for y0, v in prev.items() if trans_p[y0]]
        now, back = {}, {}
        for y in dict.fromkeys(states.get(char, all_states)):
            e, best = emit_p[y].get(char, MIN_FLOAT), None
            for y0, v, out in scored:
                t = out.get(y)
                if t is None:
                    continue
                p = v + t + e  # summed as jieba does: e (MIN_FLOAT, say) may make scores equal
                if best is None or p > best or (p == best and y0 > state):
                    best, state = p, y0
            if best is not None:
                now[y], back[y] = best, state
        if not now:  # no state of this character follows: jieba widens the states; let it
            return jieba_viterbi.viterbi(obs, states, start_p, trans_p, emit_p)
        paths.append(back)
        prev = now
    prob, state = max((v, y) for y, v in prev.items())
    route = [state]
    for back in reversed(paths):
        state = back[state]
        route.append(state)
    route.reverse()
    return prob, route
