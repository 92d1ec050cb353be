"""Stage 8b: the fused candidates ranked again by a learned model, over what is known of each
candidate and of its report.

Reciprocal rank fusion gives one number from the BM25 and dense ranks. What it cannot weigh is the
report: reports of many places and years say nearly the same things ("城镇新增就业…万人"), and a
question names the one it means by a place, a year, a meeting. Which of these matters, and how
much ("安徽2024年…" is answered by Anhui's 2025 report, which reviews 2024), is learned from
questions with known evidence (scripts/train_ranker.py) instead of bonuses set by hand: gradient-
boosted trees over PASSAGE_FEATURES, stored in qa/models/ranker.json, evaluated with numpy.

The question's year and place are compared with the report's own (read at ingest, qa/metadata.py);
an unknown year or place is its own value, not a mismatch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa import learned

FORMAT = "qa-ranker/1"
MODEL_FILE = Path(__file__).resolve().parent / "models" / "ranker.json"
PASSAGE_FEATURES = (
    "rrf", "rrf_rank", "bm25_rel", "bm25_rank", "dense_rank", "has_dense", "cover", "cover_words", "query_words",
    "length", "head", "position", "doc_best", "doc_share",
    "names_year", "year_indexed", "year_match", "year_after", "year_before", "year_unknown", "year_other",
    "names_place", "place_match", "place_unknown", "place_other", "meta", "meta_best",
    "asks_past", "asks_plan",
)
PAST = re.compile(r"去年|上年|过去|前年|回顾|已经|完成了|实现了|达到了|取得|(?:19|20)\d\d年(?:全年|底|末)?(?:完成|实现|达到)")
PLAN = re.compile(r"今年|明年|目标|预期|计划|力争|打算|将要|部署|安排|拟")
POOL = 100  # how many of the best fused candidates the ranker orders (the trees cost time per candidate)
RESTRICTED = 50  # how many of the best BM25 passages of the reports a question names join the candidates


@dataclass
class Ranker:
    trees: learned.Trees

    def score(self, X: np.ndarray) -> np.ndarray:
        return self.trees.score(X) if len(X) else np.zeros(0)


@dataclass
class Named:
    """What a question names of the indexed reports, per report (arrays over the index's documents)."""
    years: set[int]
    year_indexed: bool
    places: set[str]
    meta: np.ndarray  # how many of the question's words are the report's title, meeting, kind or speaker words
    place: np.ndarray  # 1 the place named, 0 unknown, -1 another place (all 0 when no place is named)
    focus: np.ndarray | None = None  # the reports it names most clearly, whose best passages join the candidates


def load(path: str | Path = MODEL_FILE) -> Ranker | None:
    """The shipped model, or None when there is none (then fusion alone orders the candidates)."""
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> Ranker | None:
    p = Path(path)
    if not p.is_file():
        return None
    d = json.loads(p.read_text(encoding="utf-8"))
    if d.get("format") != FORMAT:
        raise ValueError(f"{p}: ranker model format {d.get('format')!r}, expected {FORMAT!r}: "
                         "rebuild it with scripts/train_ranker.py")
    if tuple(d["model"]["features"]) != PASSAGE_FEATURES:
        raise ValueError(f"{p}: the ranker's features differ from the code's: rebuild it with scripts/train_ranker.py")
    return Ranker(learned.Trees.from_json(d["model"]))


def save(trees: learned.Trees, trained_on: dict, path: Path = MODEL_FILE) -> None:
    d = {"format": FORMAT, "trained_on": trained_on, "model": trees.to_json()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def features(query: str, named: Named, rows: np.ndarray, fused: np.ndarray, ranks: list[np.ndarray | None],
             bm25: np.ndarray, covered: np.ndarray, idf: np.ndarray, layout: "Layout") -> np.ndarray:
    """PASSAGE_FEATURES of the candidate `rows` (ascending), one row each.

    fused: their fusion scores; ranks: for BM25 and dense, each candidate's rank in that ranking
    (None: no dense ranking); bm25: their BM25 scores; covered: (rows × question words) whether the
    passage has the word; idf: the words' idf; layout: per-passage and per-report arrays of the index.
    """
    n = len(rows)
    X = np.zeros((n, len(PASSAGE_FEATURES)))
    if n == 0:
        return X
    col = {name: i for i, name in enumerate(PASSAGE_FEATURES)}
    rrf_rank = np.empty(n)
    rrf_rank[np.argsort(-fused, kind="stable")] = np.arange(n)
    weight = idf.sum() or 1.0
    doc = layout.doc_row[rows]
    X[:, col["rrf"]] = fused * 61.0  # 1.0: first in one ranking
    X[:, col["rrf_rank"]] = np.log1p(rrf_rank)
    X[:, col["bm25_rel"]] = bm25 / (bm25.max() or 1.0)
    X[:, col["bm25_rank"]] = np.log1p(ranks[0])
    X[:, col["dense_rank"]] = np.log1p(ranks[1]) if ranks[1] is not None else np.log1p(len(rows))
    X[:, col["has_dense"]] = ranks[1] is not None
    X[:, col["cover"]] = covered @ idf / weight if covered.size else 0.0
    X[:, col["cover_words"]] = covered.mean(axis=1) if covered.size else 0.0
    X[:, col["query_words"]] = covered.shape[1]
    X[:, col["length"]] = np.log1p(layout.length[rows])
    X[:, col["head"]] = layout.head[rows]
    X[:, col["position"]] = layout.position[rows]
    best = np.zeros(len(layout.doc_year))
    np.maximum.at(best, doc, fused)
    share = np.bincount(doc, minlength=len(layout.doc_year)) / n
    X[:, col["doc_best"]] = best[doc] * 61.0
    X[:, col["doc_share"]] = share[doc]
    year = layout.doc_year[doc]
    if named.years:
        ys = np.array(sorted(named.years), dtype=np.float64)
        diff = year[:, None] - ys[None, :]
        X[:, col["names_year"]] = 1
        X[:, col["year_indexed"]] = named.year_indexed
        X[:, col["year_match"]] = (diff == 0).any(axis=1)
        X[:, col["year_after"]] = (diff == 1).any(axis=1)
        X[:, col["year_before"]] = (diff == -1).any(axis=1)
        X[:, col["year_unknown"]] = np.isnan(year)
        # a report is of the year it plans and reviews the year before: any other year is another's
        X[:, col["year_other"]] = ~np.isnan(year) & ~((diff == 0) | (diff == 1)).any(axis=1)
    if named.places:
        X[:, col["names_place"]] = 1
        X[:, col["place_match"]] = named.place[doc] > 0
        X[:, col["place_unknown"]] = named.place[doc] == 0
        X[:, col["place_other"]] = named.place[doc] < 0
    X[:, col["meta"]] = named.meta[doc]
    X[:, col["meta_best"]] = named.meta[doc] >= max(named.meta.max(), 1)
    X[:, col["asks_past"]] = bool(PAST.search(query))
    X[:, col["asks_plan"]] = bool(PLAN.search(query))
    return X


@dataclass
class Layout:
    """Per-passage and per-report arrays the features need, made once per loaded index."""
    doc_row: np.ndarray  # passage → report position
    doc_year: np.ndarray  # report → the year it plans (Document.plan_year; nan: unknown)
    length: np.ndarray  # passage → its number of tokens
    head: np.ndarray  # passage → is it its report's first
    position: np.ndarray  # passage → where in its report (0 first … 1 last)

    @classmethod
    def of(cls, doc_row: np.ndarray, doc_year: np.ndarray, token_starts: np.ndarray | None) -> "Layout":
        n = len(doc_row)
        length = np.diff(token_starts).astype(np.float64) if token_starts is not None and len(token_starts) == n + 1 \
            else np.zeros(n)
        order = np.argsort(doc_row, kind="stable")  # rows of each report, in their order
        counts = np.bincount(doc_row, minlength=len(doc_year)) if n else np.zeros(len(doc_year), np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else np.zeros(0, np.int64)
        nth = np.empty(n, dtype=np.float64)
        nth[order] = np.arange(n) - np.repeat(starts, counts)
        head = nth == 0
        position = nth / np.maximum(counts[doc_row] - 1, 1) if n else np.zeros(0)
        return cls(doc_row, doc_year, length, head, position)
