"""Rebuild qa/models/ranker.json from data, deterministically: the trees that order the fused
candidate passages (qa/ranking.py).

    python scripts/train_ranker.py [--shared ../shared] [--out qa/models/ranker.json]

Trained only on the parts qa/splits.py marks for choosing, over the same indexes as
scripts/train_answerer.py (cached under build/train/): the "train" part of CMRC 2018 trial and DRCD
test, the tune parts of data/eval/dev.jsonl and data/eval/reports_*.jsonl, and synthetic number
questions over the tune reports. A candidate is relevant when it holds the question's evidence
sentence (for SQuAD, when it comes from the question's paragraph). Prints out-of-fold hit@1/hit@5
per kind of question against fusion with the report bonus alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from qa import learned, ranking, splits  # noqa: E402
from qa.evaluation import fold, load_dataset, relevant_folded  # noqa: E402
from qa.lexical import tokenize  # noqa: E402
from qa.retrieval import RRF_K  # noqa: E402
from train_answerer import fold_key, stable, synthetic, training_data  # noqa: E402

# What is known of a feature's direction, other things equal, is a constraint on the trees: a passage
# with more of the question's words, of the place or year it names, is no less likely the answer.
UP = ("rrf", "doc_best", "cover", "place_match", "year_match", "meta")
DOWN = ("place_other", "year_other")
WRITTEN_WEIGHT = 3.0  # questions people wrote about reports are what the product is for


def groups_of(assistant, rows: list[dict], domain: str) -> list[tuple]:
    """Per question with a relevant candidate: (domain, fold key, features, labels, fusion-alone scores)."""
    r, docs = assistant.retriever, assistant.index.documents
    out = []
    for row in rows:
        if not row["answerable"]:
            continue
        found = r.candidates(row["question"], assistant.settings.mode, features=True)
        if found is None:
            continue
        rows_, X, fused = found
        bonus = r.report_bonus(row["question"], tokenize(row["question"]))[rows_] / (RRF_K + 1)
        base = fused + bonus  # what fusion and the report bonus alone give: the baseline printed
        passages = [assistant.index.passages[int(i)] for i in rows_]
        y = np.array([relevant_folded(row, fold(p.text), docs[p.doc_id].source) for p in passages], dtype=float)
        if y.any() and len(y) > 1:
            out.append((domain, fold_key(row), X, y, base))
    return out


def fit(groups: list[tuple]) -> learned.Trees:
    X = np.vstack([g[2] for g in groups])
    y = np.concatenate([g[3] for g in groups])
    w = np.concatenate([np.full(len(g[3]), WRITTEN_WEIGHT if g[0] in ("dev tune", "reports tune") else 1.0)
                        for g in groups])
    return learned.fit_trees(X, y, ranking.PASSAGE_FEATURES, "lambdarank", rounds=200, groups=[len(g[3]) for g in groups],
                             weights=w,
                             num_leaves=15, max_depth=5, monotone_constraints=[1 if n in UP else -1 if n in DOWN else 0
                                                                 for n in ranking.PASSAGE_FEATURES])


def hits(score: np.ndarray, y: np.ndarray, k: int) -> float:
    order = np.argsort(-score, kind="stable")[:k]
    return float(y[order].any())


def report(groups, scores) -> None:
    print(f"{'questions':22} {'n':>5} {'fusion hit@1':>12} {'hit@5':>6} {'ranker hit@1':>12} {'hit@5':>6}")
    for d in sorted({g[0] for g in groups}):
        idx = [i for i, g in enumerate(groups) if g[0] == d]
        base = [(hits(groups[i][4], groups[i][3], 1), hits(groups[i][4], groups[i][3], 5)) for i in idx]
        new = [(hits(scores[i], groups[i][3], 1), hits(scores[i], groups[i][3], 5)) for i in idx]
        b, m = np.mean(base, axis=0), np.mean(new, axis=0)
        print(f"{d:22} {len(idx):5} {b[0]:12.3f} {b[1]:6.3f} {m[0]:12.3f} {m[1]:6.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ranking.MODEL_FILE)
    args = parser.parse_args()

    bundled, mrc, mrc_index, report_rows, reports = training_data(args.shared)
    for a in (bundled, mrc_index, reports):
        a.retriever.ranker = None  # candidates and features do not depend on a model; fusion alone is the baseline

    groups = (groups_of(mrc_index, mrc, "SQuAD train") + groups_of(bundled, splits.select(load_dataset(
        ROOT / "data" / "eval" / "dev.jsonl"), "tune"), "dev tune")
        + groups_of(reports, splits.select(report_rows, "tune"), "reports tune")
        + groups_of(reports, synthetic(reports), "synthetic"))
    print(f"{len(groups)} questions with a relevant candidate, {sum(len(g[3]) for g in groups)} candidates", flush=True)

    # out of fold: each question scored by trees that did not see it nor its report or paragraph
    fold_of = np.array([stable(g[1]) % 2 for g in groups])
    scores = [None] * len(groups)
    for f in (0, 1):
        trees = fit([g for g, k in zip(groups, fold_of) if k != f])
        for i in np.flatnonzero(fold_of == f):
            scores[i] = trees.score(groups[i][2])
    report(groups, scores)
    trees = fit(groups)
    ranking.save(trees, {
        "data": "CMRC 2018 trial (CC BY-SA 4.0, Cui et al. 2019) and DRCD test (CC BY-SA 3.0, Shao et al. 2018), "
                "train part by qa.splits.mrc_part; data/eval/dev.jsonl and data/eval/reports_*.jsonl, tune parts; "
                "synthetic questions over the tune reports of ../shared/reports",
        "questions": {d: sum(g[0] == d for g in groups) for d in sorted({g[0] for g in groups})},
    }, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
