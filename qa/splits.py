"""Which data may be looked at and chosen on ("tune") and which is only reported on ("holdout").

The rule is a hash of a stable key, fixed here, so that no one can move a question between parts:

- the dev set (data/eval/dev.jsonl): by question id;
- the report questions (data/eval/reports_*.jsonl, over ../shared/reports): by the report a
  question was written against (`about`), so held-out questions come from reports the answerer
  was never tuned or trained on;
- SQuAD-format sets (../shared/mrc: CMRC 2018 trial, DRCD test): by paragraph, "train" / "test".

Everything learned (scripts/train_answerer.py) and every threshold is chosen on tune/train parts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

PARTS = ("tune", "holdout")
HOLDOUT_SHARE = {"dev": 2, "reports": 2, "mrc": 3}  # one in N keys is held out


def _bucket(key: str, n: int) -> bool:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % n == 0


def dev_part(row: dict) -> str:
    return "holdout" if _bucket(f"dev:{row['id']}", HOLDOUT_SHARE["dev"]) else "tune"


def report_part(row: dict) -> str:
    """By report file: every question about one report falls in the same part."""
    about = Path(row.get("about") or row.get("doc") or row["id"]).name
    return "holdout" if _bucket(f"report:{about}", HOLDOUT_SHARE["reports"]) else "tune"


def part_of(row: dict) -> str:
    return report_part(row) if ("about" in row) else dev_part(row)


def select(rows: list[dict], part: str | None) -> list[dict]:
    """The rows of one part (None or "all": every row)."""
    if part in (None, "all"):
        return rows
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}: choose tune, holdout or all")
    return [r for r in rows if part_of(r) == part]


def mrc_part(context: str) -> str:
    """A SQuAD paragraph's part, by its text: "train" or "test"."""
    return "test" if _bucket(f"mrc:{context}", HOLDOUT_SHARE["mrc"]) else "train"


def squad_subset(paths: list[Path], part: str) -> dict:
    """One SQuAD-format object holding the paragraphs of `part` ("train"/"test") of all `paths`
    (questions with no text, a few in DRCD, left out)."""
    data = []
    for path in paths:
        for article in json.loads(Path(path).read_text(encoding="utf-8-sig"))["data"]:
            paras = [{**p, "qas": [q for q in p.get("qas") or [] if str(q.get("question") or "").strip()]}
                     for p in article.get("paragraphs") or [] if mrc_part(p["context"]) == part]
            if paras:
                data.append({**article, "paragraphs": paras})
    return {"version": f"{part} part (qa.splits.mrc_part)", "data": data}
