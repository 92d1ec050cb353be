"""Stage 8: hybrid retrieval — BM25 and dense rankings fused by reciprocal rank fusion.

Reports of different years and places look alike, so when a question names a year, a place, a
meeting, a kind of report or a speaker, passages of the reports that match get a bonus (see
`report_bonus`). A report whose year or place is unknown is no mismatch: it gets part of the bonus.
"""

from __future__ import annotations

import re

import numpy as np

from qa.lexical import tokenize
from qa.normalize import for_search
from qa.places import place_names
from qa.store import Index
from qa.types import Hit

RRF_K = 60
CANDIDATES = 200  # how deep each ranking goes before fusion
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:年|年度)?(?!\d)")
# Bonus, in units of a first-rank RRF score, for a report that matches the question's year or its
# meeting, kind or speaker. Chosen on data/eval/dev.jsonl with scripts/tune_fusion.py: 0.05 lifts
# BM25 hit@5 from 0.92 to 0.94; larger values let the reports' title pages crowd out answers.
REPORT_BONUS = 0.05
# The place a question names weighs more: reports of many places look alike ("5%左右" everywhere),
# and a place rarely misleads. Chosen on the tune report questions: 0.05 → 0.2 lifts hit@5 from 0.882 to 0.900, dev tune unchanged.
PLACE_BONUS = 0.2
UNKNOWN_SHARE = 0.25  # of the bonus for a report of unknown year or place: no match, no mismatch (dev set: 0.5 lost q063)


def top(scores: np.ndarray, m: int) -> np.ndarray:
    """Indexes of the m highest scores, best first, ties by index: what a stable argsort of -scores
    gives in its first m, without sorting every score (argpartition, then a sort of m)."""
    n = len(scores)
    if m >= n:
        return np.argsort(-scores, kind="stable")
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    kth = np.partition(scores, n - m)[n - m]  # the m-th highest score
    above = np.flatnonzero(scores > kth)
    picked = np.concatenate([above, np.flatnonzero(scores == kth)[: m - len(above)]])
    return picked[np.lexsort((picked, -scores[picked]))]


def rrf(rankings: list[np.ndarray], weights: list[float], n: int, k: int = RRF_K) -> np.ndarray:
    """Weighted reciprocal rank fusion: score[i] = Σ w / (k + rank of i), ranks from 1."""
    fused = np.zeros(n, dtype=np.float64)
    for ranking, weight in zip(rankings, weights):
        fused[ranking] += weight / (k + 1 + np.arange(len(ranking)))
    return fused


def years_in(text: str) -> set[int]:
    return {int(y) for y in YEAR.findall(text)}


class Retriever:
    def __init__(self, index: Index, embedder=None, dense_weight: float | None = None):
        self.index = index
        self.embedder = embedder
        self.dense_weight = index.manifest.dense_weight if dense_weight is None else dense_weight
        self.doc_of = np.array([p.doc_id for p in index.passages])
        self._row_of = {int(key): row for row, key in enumerate(index.ids)}  # FAISS id → passage row
        docs = list(index.documents.values())
        self._doc_ids = [d.doc_id for d in docs]
        position = {doc_id: n for n, doc_id in enumerate(self._doc_ids)}
        self._doc_row = np.array([position[p.doc_id] for p in index.passages], dtype=np.int64)  # passage → doc
        self._doc_year = np.array([d.year if d.year else np.nan for d in docs], dtype=np.float64)
        self._doc_places = [place_names(d.place) for d in docs]
        self._all_places = sorted(set().union(*self._doc_places), key=len, reverse=True) if docs else []
        self._meta_tokens = [set(tokenize(" ".join(filter(None, (d.title, d.meeting, d.kind, d.speaker)))))
                             for d in docs]

    def search(self, query: str, k: int = 5, mode: str = "hybrid", doc_ids: list[str] | None = None,
               years: list[int] | None = None) -> list[Hit]:
        n = len(self.index.passages)
        if n == 0:
            return []
        tokens = tokenize(query)
        bm25 = self.index.bm25.scores(tokens)
        dense = np.full(n, np.nan, dtype=np.float32)
        rankings, weights = [], []
        if mode in ("hybrid", "bm25"):
            order = top(bm25, CANDIDATES)
            rankings.append(order[bm25[order] > 0])
            weights.append(1.0)
        if mode in ("hybrid", "dense"):
            if self.embedder is None:
                raise RuntimeError("dense retrieval needs the embedding model, which is not loaded")
            qv = self.embedder.encode_queries([query])
            scores, keys = self.index.dense.search(qv, min(CANDIDATES, n))
            rows = self._rows(keys[0])
            dense[rows] = scores[0][: len(rows)]
            rankings.append(rows)
            weights.append(self.dense_weight if mode == "hybrid" else 1.0)
        fused = rrf(rankings, weights, n)
        fused += self.report_bonus(query, tokens) * (max(weights) / (RRF_K + 1)) * (fused > 0)
        allowed = self._allowed(doc_ids, years)
        if allowed is not None:
            fused[~allowed] = 0
        scored = np.flatnonzero(fused > 0)  # a few hundred candidates at most, whatever the corpus size
        best = [int(i) for i in scored[top(fused[scored], k)]]
        return [Hit(self.index.passages[i], float(fused[i]),
                    {"bm25": float(bm25[i]), "dense": None if np.isnan(dense[i]) else float(dense[i])})
                for i in best]

    def report_bonus(self, query: str, tokens: list[str]) -> np.ndarray:
        """Per passage: bonus for the reports that match the question's year, place, meeting or speaker.

        Computed per document, then spread to passages with one index array. A report of unknown
        year or place gets a quarter of the bonus when the question names one: it may well be that report.
        A year no report is of gives no bonus at all.
        """
        years = years_in(query)
        places = self.places_in(query)
        wanted = set(tokens) - {str(y) for y in years}
        doc_bonus = np.array([bool(wanted & meta) for meta in self._meta_tokens], dtype=np.float64)
        matching = np.isin(self._doc_year, list(years)) if years else np.zeros(len(self._doc_ids), bool)
        if matching.any():  # a year no report is of ("到2021年") is a target, not a report's year
            doc_bonus += np.where(np.isnan(self._doc_year), UNKNOWN_SHARE, matching)
        doc_bonus *= REPORT_BONUS
        if places:
            doc_bonus += PLACE_BONUS * np.array([(1.0 if names & places else 0.0) if names else UNKNOWN_SHARE
                                                 for names in self._doc_places])
        return doc_bonus[self._doc_row] if len(self._doc_row) else np.zeros(0)

    def places_in(self, query: str) -> set[str]:
        """The indexed reports' places the question names ("广东", "拱墅区", "上海市")."""
        q = for_search(query)
        return {name for name in self._all_places if name in q}

    def _rows(self, keys: np.ndarray) -> np.ndarray:
        return np.array([self._row_of[int(key)] for key in keys if key >= 0], dtype=np.int64)

    def _allowed(self, doc_ids, years) -> np.ndarray | None:
        if not doc_ids and not years:
            return None
        docs = self.index.documents
        ok = np.array([(not doc_ids or d in doc_ids or docs[d].source in doc_ids)
                       and (not years or docs[d].year in years) for d in self._doc_ids], dtype=bool)
        return ok[self._doc_row] if len(self._doc_row) else np.zeros(0, dtype=bool)
