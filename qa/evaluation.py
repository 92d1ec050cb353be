"""Dev-set metrics: retrieval hit@k, answer and citation accuracy, refusals, answer length.

A passage is relevant when it contains the question's evidence sentence; an answer is correct
when it contains one of the gold answers. Both comparisons ignore white space and fold
traditional/simplified and full/half width.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from qa.normalize import for_search

FIELDS = ("id", "question", "answers", "evidence", "doc", "type", "answerable")


def fold(text: str) -> str:
    return re.sub(r"\s+", "", for_search(text))


def load_dataset(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc})") from None
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise ValueError(f"{path}:{n}: missing field(s) {', '.join(missing)}")
        rows.append(row)
    return rows


def relevant(row: dict, text: str) -> bool:
    return bool(row["evidence"]) and fold(row["evidence"]) in fold(text)


def correct(row: dict, answer_text: str) -> bool:
    return any(fold(a) in fold(answer_text) for a in row["answers"])


def score(rows: list[dict], results: list[dict], k: int = 5) -> dict:
    """Metrics from dataset rows and `qa ask --json` results in the same order."""
    answerable = [(r, a) for r, a in zip(rows, results) if r["answerable"]]
    unanswerable = [(r, a) for r, a in zip(rows, results) if not r["answerable"]]
    n = max(len(answerable), 1)
    hit = sum(any(relevant(r, p["text"]) for p in a["passages"][:k]) for r, a in answerable)
    acc = sum(a["answerable"] and correct(r, a["answer"]) for r, a in answerable)
    cited = sum(any(relevant(r, c["text"]) for c in a["citations"]) for r, a in answerable)
    false_refusals = sum(not a["answerable"] for _, a in answerable)
    refused = sum(not a["answerable"] for _, a in unanswerable)
    lengths = [len(a["answer"]) for _, a in answerable if a["answerable"]]
    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        f"hit@{k}": round(hit / n, 3), "answer_accuracy": round(acc / n, 3),
        "citation_accuracy": round(cited / n, 3),
        "refused_unanswerable": round(refused / max(len(unanswerable), 1), 3),
        "false_refusals": round(false_refusals / n, 3),
        "median_answer_chars": statistics.median(lengths) if lengths else 0,
    }


def retrieval_hits(rows: list[dict], search, modes=("bm25", "dense", "hybrid"), k: int = 5) -> dict:
    """hit@k per retrieval mode; `search(question, k, mode)` returns passages' texts."""
    answerable = [r for r in rows if r["answerable"]]
    return {mode: round(sum(any(relevant(r, t) for t in search(r["question"], k, mode)) for r in answerable)
                        / max(len(answerable), 1), 3) for mode in modes}
