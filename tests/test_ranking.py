"""The learned ranking of candidates (qa/ranking.py): its features, its candidates, its model file."""

import json

import numpy as np
import pytest

from qa import learned, ranking, store
from qa.config import Settings
from qa.ingest import ingest
from qa.retrieval import Retriever

NAMES = ranking.PASSAGE_FEATURES


def feature(X, name):
    return X[:, NAMES.index(name)]


def test_the_shipped_model_loads_with_the_codes_features():
    model = ranking.load()
    assert model is not None and tuple(model.trees.names) == NAMES
    assert model.score(np.zeros((3, len(NAMES)))).shape == (3,)
    assert json.loads(ranking.MODEL_FILE.read_text(encoding="utf-8"))["trained_on"]["questions"]


@pytest.mark.parametrize("change", ["format", "features"])
def test_a_ranker_of_another_format_or_features_is_refused(tmp_path, change):
    d = json.loads(ranking.MODEL_FILE.read_text(encoding="utf-8"))
    if change == "format":
        d["format"] = "qa-ranker/0"
    else:
        d["model"]["features"] = d["model"]["features"][:-1]
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ValueError, match="train_ranker.py"):
        ranking.load(path)
    assert ranking.load(tmp_path / "none.json") is None  # no model: fusion alone


def test_layout_knows_each_passages_place_in_its_report():
    doc_row = np.array([0, 0, 1, 0, 1, 2])  # report 0 has rows 0, 1, 3
    layout = ranking.Layout.of(doc_row, np.array([2017.0, np.nan, 2018.0]), np.array([0, 3, 5, 9, 10, 14, 20]))
    assert layout.head.tolist() == [True, False, True, False, False, True]
    assert layout.position.tolist() == [0.0, 0.5, 0.0, 1.0, 1.0, 0.0]
    assert layout.length.tolist() == [3, 2, 4, 1, 4, 6]


REPORTS = {  # three reports that say the same thing; the question names a year or a place
    "a2024.txt": "2024年安徽省政府工作报告\n城镇新增就业60万人，居民收入稳步增长。",
    "a2025.txt": "2025年安徽省政府工作报告\n城镇新增就业65万人，居民收入稳步增长。",
    "b2025.txt": "2025年江西省政府工作报告\n城镇新增就业70万人，居民收入稳步增长。",
    "undated.txt": "工作情况\n城镇新增就业75万人，居民收入稳步增长。",
}


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranking")
    for name, text in REPORTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(index_dir=folder / "index")
    ingest([folder], settings)
    return Retriever(store.load(settings.index_dir), None)


def features_of(retriever, question):
    rows, X, _ = retriever.candidates(question, "bm25", features=True)
    docs = [d.doc_id for d in retriever.index.documents.values()]
    return {docs[retriever._doc_row[r]]: x for r, x in zip(rows, X)}


def test_year_features_say_which_report_is_of_the_year_and_which_reviews_it(retriever):
    by_doc = features_of(retriever, "安徽2024年城镇新增就业多少人？")
    row = {d: dict(zip(NAMES, x)) for d, x in by_doc.items()}
    assert row["a2024"]["year_match"] == 1 and row["a2024"]["year_other"] == 0
    assert row["a2025"]["year_after"] == 1 and row["a2025"]["year_other"] == 0  # reviews 2024
    assert row["undated"]["year_unknown"] == 1 and row["undated"]["year_other"] == 0  # unknown is no mismatch
    assert row["a2024"]["place_match"] == 1 and row["b2025"]["place_other"] == 1
    assert row["undated"]["place_unknown"] == 1
    by_doc = features_of(retriever, "2026年城镇新增就业多少人？")
    assert by_doc["a2024"][NAMES.index("year_other")] == 1  # a 2024 report neither plans nor reviews 2026
    assert by_doc["a2025"][NAMES.index("year_before")] == 1 and by_doc["a2025"][NAMES.index("year_other")] == 1


def test_the_named_reports_best_passages_are_candidates_however_deep(retriever, monkeypatch):
    monkeypatch.setattr(ranking, "POOL", 1)  # fusion keeps one candidate; the named place's passages join it
    rows, X, _ = retriever.candidates("江西省城镇新增就业多少人？", "bm25", features=True)
    docs = [d.doc_id for d in retriever.index.documents.values()]
    assert "b2025" in {docs[retriever._doc_row[r]] for r in rows}
    assert len(rows) < len(retriever.index.passages)


def test_the_ranker_orders_by_the_place_the_question_names(retriever):
    for place, doc in (("安徽", "a"), ("江西省", "b2025")):
        hits = retriever.search(f"{place}城镇新增就业多少人？", k=2, mode="bm25")
        assert hits[0].passage.doc_id.startswith(doc), (place, [h.passage.doc_id for h in hits])
        assert 0 < hits[-1].score <= hits[0].score <= 1  # a probability-like score


def test_features_are_the_same_for_a_query_and_its_repeat(retriever):
    a = retriever.candidates("2025年城镇新增就业", "bm25", features=True)
    b = retriever.candidates("2025年城镇新增就业", "bm25", features=True)
    np.testing.assert_array_equal(a[1], b[1])
    assert learned.sigmoid(retriever.ranker.score(a[1])).shape == (len(a[0]),)


@pytest.mark.parametrize("date, plans", [("2016-12-28", 2017), ("2016-12", 2017), ("2016-10-01", 2017),
                                         ("2016-09-30", 2016), ("2017-02-09", 2017), ("2016", 2016), (None, None)])
def test_a_report_of_the_last_quarter_plans_the_next_year(date, plans):
    from qa.types import Document

    assert Document("d", "d.txt", "", "", date=date).plan_year == plans
