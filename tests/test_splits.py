import json
from pathlib import Path

import pytest

from qa import splits
from qa.evaluation import load_dataset

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def test_dev_split_is_fixed_and_covers_every_question():
    rows = load_dataset(ROOT / "data" / "eval" / "dev.jsonl")
    tune, holdout = splits.select(rows, "tune"), splits.select(rows, "holdout")
    assert len(tune) + len(holdout) == len(rows) and tune and holdout
    assert not {r["id"] for r in tune} & {r["id"] for r in holdout}
    assert splits.select(rows, "all") == rows


def test_report_questions_split_by_report():
    rows = [r for f in sorted((ROOT / "data" / "eval").glob("reports_*.jsonl")) for r in load_dataset(f)]
    assert len(rows) >= 150
    part_of_report = {}
    for r in rows:
        part_of_report.setdefault(r["about"], set()).add(splits.part_of(r))
    assert all(len(parts) == 1 for parts in part_of_report.values())  # a report is in one part only
    assert {"tune", "holdout"} <= {p for parts in part_of_report.values() for p in parts}


def test_unknown_part_is_an_error():
    with pytest.raises(ValueError, match="tune, holdout or all"):
        splits.select([], "test")


@pytest.mark.skipif(not (SHARED / "mrc").is_dir(), reason="../shared/mrc not present")
def test_mrc_parts_are_disjoint_by_paragraph():
    paths = sorted((SHARED / "mrc").glob("*.json"))
    train, test = splits.squad_subset(paths, "train"), splits.squad_subset(paths, "test")
    contexts = lambda d: {p["context"] for a in d["data"] for p in a["paragraphs"]}  # noqa: E731
    assert contexts(train) and contexts(test) and not contexts(train) & contexts(test)
    total = sum(len(p["qas"]) for path in paths for a in json.loads(path.read_text(encoding="utf-8"))["data"]
                for p in a["paragraphs"])
    kept = sum(len(p["qas"]) for d in (train, test) for a in d["data"] for p in a["paragraphs"])
    assert total - 5 <= kept <= total  # only questions with no text are left out
