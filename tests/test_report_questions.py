"""The report questions (data/eval/reports_*.jsonl) are well formed, and every answerable one's
evidence really is in its report (../shared/reports) and holds one of its answers."""

import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from qa.evaluation import FIELDS, TYPES, fold, load_dataset

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT.parent / "shared" / "reports"
ROWS = [r for f in sorted((ROOT / "data" / "eval").glob("reports_*.jsonl")) for r in load_dataset(f)]


def flat(text: str) -> str:
    """Folded, without white space and zero-width marks: a report as found breaks its lines inside
    sentences, one with a zero-width space between them."""
    return "".join(c for c in fold(text) if not c.isspace() and unicodedata.category(c) != "Cf")


@lru_cache(maxsize=None)
def report_text(name: str) -> str:
    return flat((REPORTS / name).read_text(encoding="utf-8"))


def test_ids_unique_types_known_and_unanswerables_asked():
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    counts = Counter(r["type"] for r in ROWS)
    assert set(counts) <= set(TYPES)
    assert counts["unanswerable"] >= 0.15 * len(ROWS)
    for r in ROWS:
        assert set(FIELDS) <= set(r) and r["about"]
        assert r["answerable"] == (r["type"] != "unanswerable")
        if not r["answerable"]:
            assert r["answers"] == [] and r["evidence"] == ""


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/reports not present")
@pytest.mark.parametrize("row", [r for r in ROWS if r["answerable"]], ids=lambda r: r["id"])
def test_evidence_is_in_its_report_and_holds_an_answer(row):
    assert Path(row["doc"]).name == row["about"]
    assert flat(row["evidence"]) in report_text(row["about"])
    assert any(flat(a) in flat(row["evidence"]) for a in row["answers"])
