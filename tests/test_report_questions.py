"""The report questions (data/eval/reports_*.jsonl and the blind ones, data/eval/blind_*.jsonl) are
well formed, and every answerable one's evidence really is in its report (../shared/reports) and
holds one of its answers. The blind questions are all about held-out reports."""

import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from qa import splits
from qa.evaluation import FIELDS, TYPES, fold, load_dataset

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT.parent / "shared" / "reports"
ROWS = [r for f in sorted((ROOT / "data" / "eval").glob("reports_*.jsonl")) for r in load_dataset(f)]
BLIND = [r for f in sorted((ROOT / "data" / "eval").glob("blind_*.jsonl")) for r in load_dataset(f)]


def flat(text: str) -> str:
    """Folded, without white space and zero-width marks: a report as found breaks its lines inside
    sentences, one with a zero-width space between them."""
    return "".join(c for c in fold(text) if not c.isspace() and unicodedata.category(c) != "Cf")


@lru_cache(maxsize=None)
def report_text(name: str) -> str:
    return flat((REPORTS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("rows", [ROWS, BLIND], ids=["reports", "blind"])
def test_ids_unique_types_known_and_unanswerables_asked(rows):
    assert rows and len({r["id"] for r in rows}) == len(rows)
    counts = Counter(r["type"] for r in rows)
    assert set(counts) <= set(TYPES)
    assert counts["unanswerable"] >= 0.15 * len(rows)
    for r in rows:
        assert set(FIELDS) <= set(r) and r["about"]
        assert r["answerable"] == (r["type"] != "unanswerable")
        if not r["answerable"]:
            assert r["answers"] == [] and r["evidence"] == ""


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/reports not present")
@pytest.mark.parametrize("row", [r for r in ROWS + BLIND if r["answerable"]], ids=lambda r: r["id"])
def test_evidence_is_in_its_report_and_holds_an_answer(row):
    assert Path(row["doc"]).name == row["about"]
    assert flat(row["evidence"]) in report_text(row["about"])
    assert any(flat(a) in flat(row["evidence"]) for a in row["answers"])


def test_blind_questions_are_about_held_out_reports_only():
    """Nothing learned or chosen ever sees them (scripts/train_*.py read the tune parts only)."""
    assert {splits.part_of(r) for r in BLIND} == {"holdout"}
    assert not {r["id"] for r in BLIND} & {r["id"] for r in ROWS}
