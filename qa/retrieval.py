"""Stage 8: hybrid retrieval — BM25 and dense rankings fused by reciprocal rank fusion.

Reports of different years look alike, so when a question names a year, a meeting, a kind of
report or a speaker, passages of the reports that match get a bonus (see `report_bonus`).
"""

from __future__ import annotations

import re

import numpy as np

from qa.lexical import tokenize
from qa.store import Index
from qa.types import Hit

RRF_K = 60
CANDIDATES = 200  # how deep each ranking goes before fusion
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:年|年度)?(?!\d)")
# Bonus, in units of a first-rank RRF score, for a report that matches the question's year or its
# meeting, kind or speaker. Chosen on data/eval/dev.jsonl with scripts/tune_fusion.py: 0.05 lifts
# BM25 hit@5 from 0.92 to 0.94; larger values let the reports' title pages crowd out answers.
REPORT_BONUS = 0.05


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
        self._meta_tokens = {doc_id: set(tokenize(" ".join(filter(None, (d.title, d.meeting, d.kind, d.speaker)))))
                             for doc_id, d in index.documents.items()}

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
            order = np.argsort(-bm25, kind="stable")[:CANDIDATES]
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
        top = [int(i) for i in np.argsort(-fused, kind="stable")[:k] if fused[i] > 0]
        return [Hit(self.index.passages[i], float(fused[i]),
                    {"bm25": float(bm25[i]), "dense": None if np.isnan(dense[i]) else float(dense[i])})
                for i in top]

    def report_bonus(self, query: str, tokens: list[str]) -> np.ndarray:
        """Per passage: bonus for the reports that match the question's year, meeting or speaker."""
        years = years_in(query)
        wanted = set(tokens) - {str(y) for y in years}
        doc_bonus = {}
        for doc_id, doc in self.index.documents.items():
            hit_meta = bool(wanted & self._meta_tokens[doc_id])
            hit_year = doc.year in years if years else False
            doc_bonus[doc_id] = REPORT_BONUS * (hit_meta + hit_year)
        return np.array([doc_bonus[d] for d in self.doc_of])

    def _rows(self, keys: np.ndarray) -> np.ndarray:
        return np.array([self._row_of[int(key)] for key in keys if key >= 0], dtype=np.int64)

    def _allowed(self, doc_ids, years) -> np.ndarray | None:
        if not doc_ids and not years:
            return None
        docs = self.index.documents
        ok = {d for d in docs if (not doc_ids or d in doc_ids or docs[d].source in doc_ids)
              and (not years or docs[d].year in years)}
        return np.array([d in ok for d in self.doc_of])
