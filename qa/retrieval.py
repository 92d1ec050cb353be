"""Stage 8: hybrid retrieval — BM25 and dense rankings fused by reciprocal rank fusion.

Reports of different years and places look alike, so when a question names a year, a place, a
meeting, a kind of report or a speaker, passages of the reports that match get a bonus (see
`report_bonus`). A report whose year or place is unknown is no mismatch: it gets part of the bonus.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np

from qa import dense, learned, ranking
from qa.lexical import question_tokens, tokenize
from qa.metadata import meeting_names
from qa.normalize import for_search
from qa.places import place_names
from qa.store import Index
from qa.types import Hit

RRF_K = 60
CANDIDATES = 200  # how deep each ranking goes before fusion
# a year, not a count that looks like one: 2024年, 2024 and 2021—2025, but not 2000余家, 2000人 or 2000万元
YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?:年|年度)?(?![\d.%％]|[余多万亿千百个家人元户所项条座名台辆吨米亩位次件套块])")
# a year in Chinese numerals, as older reports write it (一九七九年, 二○○○年); digit by digit
CN_YEAR = re.compile(r"(?<![〇○零一二三四五六七八九十])([一二][〇○零一二三四五六七八九]{3})年")
CN_DIGIT = str.maketrans("〇○零一二三四五六七八九", "000123456789")
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


def top_positive(scores: np.ndarray, m: int, step: int = 8) -> np.ndarray:
    """`top` of the rows with a positive score: matching[top(scores[matching], m)] for matching =
    np.flatnonzero(scores > 0), for scores that are never negative (BM25), without gathering every
    matching row. A score that at least m rows reach (guessed from every step-th row, so about 2m
    do) bounds the m best from below: only the rows at or above it are ranked. When fewer reach
    it, all matching rows are, as before."""
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    sample = scores[::step]
    sample = sample[sample > 0]  # np.partition is slow over many equal values (the zeros)
    k = 2 * m // step + 1
    if k <= len(sample):
        guess = np.partition(sample, len(sample) - k)[len(sample) - k]
        above = np.flatnonzero(scores >= guess)
        if len(above) >= m:  # then the m-th best score is at least the guess: the m best are all here
            return above[top(scores[above], m)]
    matching = np.flatnonzero(scores > 0)
    return matching[top(scores[matching], m)]


def fuse(rankings: list[np.ndarray], weights: list[float], k: int = RRF_K) -> tuple[np.ndarray, np.ndarray]:
    """Weighted reciprocal rank fusion over the ranked rows only: (rows, ascending; their scores),
    score = Σ w / (k + rank), ranks from 1."""
    rows = np.unique(np.concatenate(rankings)) if rankings else np.zeros(0, np.int64)
    fused = np.zeros(len(rows), dtype=np.float64)
    for ranking, weight in zip(rankings, weights):
        fused[np.searchsorted(rows, ranking)] += weight / (k + 1 + np.arange(len(ranking)))
    return rows, fused


def rrf(rankings: list[np.ndarray], weights: list[float], n: int, k: int = RRF_K) -> np.ndarray:
    """`fuse` as a score for each of n rows (0 for rows no ranking has)."""
    rows, fused = fuse(rankings, weights, k)
    out = np.zeros(n, dtype=np.float64)
    out[rows.astype(np.int64)] = fused
    return out


def years_in(text: str) -> set[int]:
    years = {int(y) for y in YEAR.findall(text)}
    if "年" in text:
        years |= {y for m in CN_YEAR.findall(text) if 1900 <= (y := int(m.translate(CN_DIGIT))) < 2100}
    return years


class Retriever:
    """Searches an index. Everything per passage is a numpy array made once here; a query touches
    Python objects only for its candidates (a few hundred) and for the reports' metadata it names."""

    def __init__(self, index: Index, embedder=None, dense_weight: float | None = None, ranker="shipped"):
        self.index = index
        self.ranker = ranking.load() if ranker == "shipped" else ranker  # None: fusion and report bonus alone
        self.embedder = embedder
        self.dense_weight = index.manifest.dense_weight if dense_weight is None else dense_weight
        docs = list(index.documents.values())
        self._doc_ids = [d.doc_id for d in docs]
        self._doc_row = index.doc_rows()  # passage row → position of its report in docs
        self._key_order = np.argsort(index.ids, kind="stable")  # FAISS id → passage row, by binary search
        self._sorted_keys = index.ids[self._key_order]
        self._doc_year = np.array([d.year if d.year else np.nan for d in docs], dtype=np.float64)
        self._no_place = np.array([not place_names(d.place) for d in docs], dtype=bool)
        self._place_docs = _postings(place_names(d.place) for d in docs)  # place name → its reports
        self._all_places = sorted(self._place_docs, key=len, reverse=True)
        self._meta_docs = _postings(set(tokenize(" ".join(filter(None, (d.title, meeting_names(d.meeting), d.kind, d.speaker)))))
                                    for d in docs)  # token of a title, meeting, kind or speaker → reports
        self._source_docs = _postings({d.source} for d in docs)
        self._position = {doc_id: n for n, doc_id in enumerate(self._doc_ids)}
        plan_year = np.array([d.plan_year or np.nan for d in docs], dtype=np.float64)  # the year each plans
        self._report_rows = np.argsort(self._doc_row, kind="stable")  # each report's rows, ascending, report by report
        self._report_count = np.bincount(self._doc_row, minlength=len(docs)).astype(np.int64)
        self._report_start = np.cumsum(self._report_count) - self._report_count
        self._layout = ranking.Layout.of(self._doc_row, plan_year, index.bm25.token_starts)
        self._dense = None  # (the index's dense index, its searcher or None before its second search)

    @property
    def doc_of(self) -> np.ndarray:
        """The document id of each passage row."""
        return np.array(self._doc_ids, dtype=object)[self._doc_row] if len(self._doc_row) else np.zeros(0, object)

    def search(self, query: str, k: int = 5, mode: str = "hybrid", doc_ids: list[str] | None = None,
               years: list[int] | None = None) -> list[Hit]:
        found = self.candidates(query, mode)
        if found is None:
            return []
        rows, score, bm25, dense_of = found
        allowed = self._allowed_docs(doc_ids, years)
        if allowed is not None:
            score[~allowed[self._doc_row[rows]]] = 0
        scored = np.flatnonzero(score > 0)
        best = scored[top(score[scored], k)]
        passages = self.index.passages
        return [Hit(passages[int(rows[i])], float(score[i]),
                    {"bm25": float(bm25[rows[i]]), "dense": dense_of.get(int(rows[i]))})
                for i in best]

    def candidates(self, query: str, mode: str = "hybrid", features: bool = False):
        """The candidate passage rows of a query (ascending) and their scores: the learned ranker's
        probability that a passage answers, or without a ranker the fused score plus the report bonus.
        Returns (rows, scores, BM25 scores of every passage, dense score by row), or None for an
        empty index; with `features`, (rows, features, fused scores) for training the ranker."""
        n = len(self._doc_row)
        if n == 0:
            return None
        tokens = question_tokens(query)
        bm25 = self.index.bm25.scores(tokens)
        rankings, weights, dense_rows, dense_scores = [], [], None, None
        if mode in ("hybrid", "bm25"):
            rankings.append(top_positive(bm25, CANDIDATES))  # ties in passage order
            weights.append(1.0)
        if mode in ("hybrid", "dense"):
            if self.embedder is None:
                raise RuntimeError("dense retrieval needs the embedding model, which is not loaded")
            qv = self.embedder.encode_queries([query])
            with one_thread():
                scores, keys = self.dense_searcher().search(qv, min(CANDIDATES, n))
            dense_rows = self._rows(keys[0])
            dense_scores = scores[0][: len(dense_rows)]
            rankings.append(dense_rows)
            weights.append(self.dense_weight if mode == "hybrid" else 1.0)
        dense_of = dict(zip(dense_rows.tolist(), dense_scores.tolist())) if dense_rows is not None else {}
        if self.ranker is None and not features:
            rows, fused = fuse(rankings, weights)  # the candidates only, whatever the corpus size
            bonus = self.doc_bonus(query, tokens)
            if bonus is not None:
                fused += bonus[self._doc_row[rows]] * (max(weights) / (RRF_K + 1)) * (fused > 0)
            return rows, fused, bm25, dense_of
        named = self.named(query, tokens)
        extra = np.zeros(0, np.int64)
        reports = named.focus
        if reports is not None and 0 < len(reports) < len(self._doc_ids) and mode != "dense":  # the best passages of the reports named
            hits = self._rows_of(reports)
            hits = hits[bm25[hits] > 0]
            extra = hits[top(bm25[hits], ranking.RESTRICTED)]
        fused_rows, fused = fuse(rankings, weights)
        rows = np.union1d(fused_rows[top(fused, ranking.POOL)], extra).astype(np.int64)
        at, found = _find(fused_rows, rows)
        fused = np.where(found, fused[at], 0.0) if len(fused_rows) else np.zeros(len(rows))
        bm25_rank = _rank_of(rows, rankings[0]) if mode != "dense" else np.full(len(rows), float(CANDIDATES))
        ranks = [bm25_rank, _rank_of(rows, dense_rows) if dense_rows is not None else None]
        words = list(dict.fromkeys(t for t in tokens if self.index.bm25.knows(t)))
        idf = np.array([self.index.bm25.idf(t) for t in words])
        X = ranking.features(query, named, rows, fused, ranks, bm25[rows], self.index.bm25.contains(words, rows),
                             idf, self._layout)
        if features:
            return rows, X, fused
        return rows, learned.sigmoid(self.ranker.score(X)), bm25, dense_of

    def dense_searcher(self):
        """The index's dense search: for a large exact index a two-step exact search (qa/dense.py),
        made at the second search of each dense index the index holds (a benchmark may swap it).
        Making it takes longer than one search saves (85 ms at 100k), so a lone question, one
        `qa ask`, is searched in one step: the same results."""
        if self._dense is None or self._dense[0] is not self.index.dense:
            self._dense = (self.index.dense, None)
            return self.index.dense
        if self._dense[1] is None:
            self._dense = (self.index.dense, dense.searcher(self.index.dense))
        return self._dense[1]

    def named(self, query: str, tokens: list[str]) -> ranking.Named:
        """What the query names of the indexed reports: years, places, title or meeting words."""
        years = years_in(query)
        places = self.places_in(query)
        meta = np.zeros(len(self._doc_ids))
        for t in set(tokens) - {str(y) for y in years}:
            if t in self._meta_docs:
                meta[self._meta_docs[t]] += 1
        place = np.zeros(len(self._doc_ids))
        if places:
            place = np.where(self._no_place, 0.0, -1.0)
            for name in places:
                place[self._place_docs[name]] = 1.0
        indexed = bool(years) and bool(np.isin(self._layout.doc_year, [y + d for y in years for d in (0, 1)]).any())
        # the reports it names most clearly: by place, else by title or meeting words, else by year
        of_year = np.isin(self._doc_year, list(years)) if years else np.zeros(len(meta), dtype=bool)
        focus = np.flatnonzero(place > 0) if places else np.flatnonzero(meta == meta.max()) if meta.max() > 0 \
            else np.flatnonzero(of_year) if of_year.any() else None
        return ranking.Named(years, indexed, places, meta, place, focus)

    def report_bonus(self, query: str, tokens: list[str]) -> np.ndarray:
        """Per passage: bonus for the reports that match the question's year, place, meeting or speaker."""
        bonus = self.doc_bonus(query, tokens)
        if bonus is None:
            return np.zeros(len(self._doc_row))
        return bonus[self._doc_row] if len(self._doc_row) else np.zeros(0)

    def doc_bonus(self, query: str, tokens: list[str]) -> np.ndarray | None:
        """Per report: bonus for matching the question's year, place, meeting or speaker; None when
        no report matches anything the question names.

        A report of unknown year or place gets a quarter of the bonus when the question names one:
        it may well be that report. A year no report is of gives no bonus at all.
        """
        years = years_in(query)
        places = self.places_in(query)
        wanted = set(tokens) - {str(y) for y in years}
        named = [self._meta_docs[t] for t in wanted if t in self._meta_docs]
        matching = np.isin(self._doc_year, list(years)) if years else None
        if not named and not places and (matching is None or not matching.any()):
            return None
        doc_bonus = np.zeros(len(self._doc_ids), dtype=np.float64)
        for docs in named:
            doc_bonus[docs] = 1.0
        if matching is not None and matching.any():  # a year no report is of ("到2021年") is a target, not a report's year
            doc_bonus += np.where(np.isnan(self._doc_year), UNKNOWN_SHARE, matching)
        doc_bonus *= REPORT_BONUS
        if places:
            place = np.where(self._no_place, UNKNOWN_SHARE, 0.0)
            for name in places:
                place[self._place_docs[name]] = 1.0
            doc_bonus += PLACE_BONUS * place
        return doc_bonus

    def places_in(self, query: str) -> set[str]:
        """The indexed reports' places the question names ("广东", "拱墅区", "上海市")."""
        q = for_search(query)
        return {name for name in self._all_places if name in q}

    def _rows_of(self, reports: np.ndarray) -> np.ndarray:
        """The passage rows of these reports (positions), ascending."""
        starts, counts = self._report_start[reports], self._report_count[reports]
        if counts.sum() > len(self._doc_row) // 8:  # many: one pass over all rows is cheaper than gathering them
            inside = np.zeros(len(self._doc_ids), dtype=bool)
            inside[reports] = True
            return np.flatnonzero(inside[self._doc_row])
        ends = np.cumsum(counts)
        at = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - counts), counts)
        return np.sort(self._report_rows[at])

    def _rows(self, keys: np.ndarray) -> np.ndarray:
        keys = keys[keys >= 0]
        return self._key_order[np.searchsorted(self._sorted_keys, keys)].astype(np.int64)

    def _allowed_docs(self, doc_ids, years) -> np.ndarray | None:
        """Per report: whether the filters let it through; None without filters."""
        if not doc_ids and not years:
            return None
        ok = np.ones(len(self._doc_ids), dtype=bool)
        if doc_ids:
            named = np.zeros(len(self._doc_ids), dtype=bool)
            for d in doc_ids:
                if d in self._position:
                    named[self._position[d]] = True
                if d in self._source_docs:
                    named[self._source_docs[d]] = True
            ok &= named
        if years:
            ok &= np.isin(self._doc_year, list(years))
        return ok


def _find(ascending: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each value is in an ascending array, and whether it is there at all (then its position
    is only a valid index, for gathers masked by `found`)."""
    if not len(ascending):
        return np.zeros(len(values), np.int64), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ascending, values), len(ascending) - 1)
    return at, ascending[at] == values


def _rank_of(rows: np.ndarray, ranking: np.ndarray) -> np.ndarray:
    """Each row's place in a ranking (from 0); the ranking's length for rows not in it."""
    rank = np.full(len(rows), float(len(ranking)))
    order = np.argsort(ranking, kind="stable")
    at, found = _find(ranking[order], rows)
    rank[found] = order[at[found]]
    return rank


def _postings(name_sets) -> dict[str, np.ndarray]:
    """name → positions of the sets that hold it."""
    out: dict[str, list[int]] = {}
    for n, names in enumerate(name_sets):
        for name in names:
            out.setdefault(name, []).append(n)
    return {name: np.array(rows, dtype=np.int64) for name, rows in out.items()}


@contextmanager
def one_thread():
    """FAISS with one OpenMP thread: one query is faster without the threads' start and join."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
