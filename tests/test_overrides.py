import json

import pytest

from qa import overrides, store
from qa.config import Settings
from qa.ingest import ingest
from qa.types import Document


@pytest.mark.parametrize("value, iso", [("2025", "2025"), ("2025-01", "2025-01"), ("2025-01-15", "2025-01-15"),
                                        ("2025年1月15日", "2025-01-15"), ("2025年1月", "2025-01"), (" 2025 ", "2025")])
def test_check_date(value, iso):
    assert overrides.check_date(value) == iso


@pytest.mark.parametrize("value", ["", "25", "2025-13", "2025-02-30", "去年", "2025/01/15", "2025-1-5"])
def test_check_date_refuses(value):
    with pytest.raises(ValueError, match="bad date"):
        overrides.check_date(value)


def test_set_fields_writes_a_small_file_and_updates_the_document(tmp_path):
    doc = Document("gd#2", "reports/gd.txt", "正文。", "政府工作报告", part=2)
    entry = overrides.set_fields(tmp_path, doc, {"date": "2026年1月26日", "place": "广东省", "title": None})
    assert entry == {"file": "gd.txt", "part": 2, "date": "2026-01-26", "place": "广东省"}
    assert (doc.date, doc.place) == ("2026-01-26", "广东省")
    assert doc.provenance["date"] == {"source": "user", "confidence": 1.0}
    overrides.set_fields(tmp_path, doc, {"speaker": "孟凡利"})
    data = json.loads((tmp_path / "overrides.json").read_text(encoding="utf-8"))
    assert data == {"documents": [{"file": "gd.txt", "part": 2, "date": "2026-01-26", "place": "广东省",
                                   "speaker": "孟凡利"}]}
    assert overrides.load(tmp_path) == {("gd.txt", 2): data["documents"][0]}


def test_set_fields_refuses_a_bad_date_and_writes_nothing(tmp_path):
    doc = Document("a", "a.txt", "正文。", "t")
    with pytest.raises(ValueError, match="bad date"):
        overrides.set_fields(tmp_path, doc, {"date": "2025-13-01"})
    assert not (tmp_path / "overrides.json").exists() and doc.date is None


def test_overrides_survive_rebuild_and_apply_at_load(tmp_path, tiny_st_model):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "gd.txt").write_text("政府工作报告\n各位代表：过去一年，全省经济增长5%。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    index = store.load(settings.index_dir)
    assert index.documents["gd"].place is None
    overrides.set_fields(settings.index_dir, index.documents["gd"], {"place": "广东省", "date": "2025"})
    assert store.load(settings.index_dir).documents["gd"].place == "广东省"  # applied at load
    ingest([folder], settings, rebuild=True)
    doc = store.load(settings.index_dir).documents["gd"]
    assert (doc.place, doc.date, doc.provenance["place"]["source"]) == ("广东省", "2025", "user")


def test_a_broken_overrides_file_is_one_clear_error(tmp_path):
    (tmp_path / "overrides.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a valid overrides file"):
        overrides.load(tmp_path)
