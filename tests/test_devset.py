"""The dev set is well formed and every evidence sentence really is in the bundled corpus."""

import json
from collections import Counter
from pathlib import Path

import pytest

from functools import lru_cache

from qa.cleaning import clean
from qa.evaluation import FIELDS, TYPES, fold, load_dataset, load_squad
from qa.loading import read_file
from qa.reports import documents_from

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "eval" / "dev.jsonl"
ROWS = load_dataset(DEV)


def corpus_text(doc: str) -> str:
    return fold(clean(read_file(ROOT / doc).text))


@lru_cache(maxsize=None)
def reports() -> dict[tuple[str, int], str]:
    """Folded text of every report, keyed like catalog.json: (file name, part)."""
    out = {}
    for path in sorted((ROOT / "data" / "corpus").glob("*.txt")):
        for doc in documents_from(f"data/corpus/{path.name}", clean(read_file(path).text), "", {}):
            out[(path.name, doc.part)] = fold(doc.text)
    return out


def test_size_and_types():
    assert len(ROWS) >= 100
    counts = Counter(r["type"] for r in ROWS)
    assert set(counts) == set(TYPES)  # every type is asked, and no other
    assert counts["unanswerable"] >= 10
    assert counts["traditional"] >= 3 and counts["paraphrase"] >= 3
    assert len({r["id"] for r in ROWS}) == len(ROWS)


def test_every_report_is_asked_about():
    docs = {r["doc"] for r in ROWS if r["answerable"]}
    assert docs == {f"data/corpus/{p.name}" for p in (ROOT / "data" / "corpus").glob("*.txt")}
    catalog = json.loads((ROOT / "data" / "corpus" / "catalog.json").read_text(encoding="utf-8"))
    wanted = {(e["file"], e["part"]) for e in catalog["documents"]}
    assert set(reports()) == wanted  # the compilation file splits into its three reports
    asked = {key for r in ROWS if r["answerable"] for key, text in reports().items()
             if key[0] == Path(r["doc"]).name and fold(r["evidence"]) in text}
    assert asked == wanted, f"reports with no question: {sorted(wanted - asked)}"


@pytest.mark.parametrize("row", [r for r in ROWS if r["answerable"]], ids=lambda r: r["id"])
def test_evidence_is_in_the_corpus_and_contains_an_answer(row):
    assert set(FIELDS) <= set(row)
    assert fold(row["evidence"]) in corpus_text(row["doc"])
    assert any(fold(a) in fold(row["evidence"]) for a in row["answers"])


@pytest.mark.parametrize("row", [r for r in ROWS if not r["answerable"]], ids=lambda r: r["id"])
def test_unanswerable_rows_have_no_answer(row):
    assert row["answers"] == [] and row["evidence"] == ""


def test_catalog_names_existing_files():
    catalog = json.loads((ROOT / "data" / "corpus" / "catalog.json").read_text(encoding="utf-8"))
    for entry in catalog["documents"]:
        assert (ROOT / "data" / "corpus" / entry["file"]).is_file()
        assert entry["title"]


def test_squad_sample_is_well_formed():
    path = ROOT / "data" / "eval" / "squad_sample.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                for a in qa["answers"]:
                    assert para["context"][a["answer_start"]:a["answer_start"] + len(a["text"])] == a["text"]
    rows, paragraphs = load_squad(path)
    assert len(paragraphs) == 8 and len(rows) == 26
    assert sum(not r["answerable"] for r in rows) == 2
