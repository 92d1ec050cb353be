"""Uploads: safe names, size limit, ingest and a swap to a fresh assistant."""

import pytest

from qa.config import Settings
from qa.library import Library, UploadError, safe_name, save_upload


@pytest.mark.parametrize("name, expected", [
    ("报告.txt", "报告.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/abs/path/重要 报告 (2020).TXT", "重要_报告_(2020).txt"),
    ("<script>x.txt", "script_x.txt"),
    (".hidden.txt", "hidden.txt"),
    ("a\x00b\nc.md", "abc.md"),
    ("年报🚇.txt", "年报.txt"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "noext", "../.txt", "....txt", ""])
def test_unusable_names_are_refused_with_a_reason(name):
    with pytest.raises(UploadError):
        safe_name(name)


def test_save_stays_in_folder_and_enforces_the_size_limit(tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(b"x" * 2048)
    folder = tmp_path / "uploads"
    saved = save_upload(src, "../../outside.txt", folder)
    assert saved.parent == folder.resolve() and saved.name == "outside.txt"
    assert not (tmp_path / "outside.txt").exists()
    with pytest.raises(UploadError, match="limit is"):
        save_upload(src, "big.txt", folder, max_bytes=1024)


def test_add_ingests_and_swaps_the_assistant(tmp_path, tiny_st_model):
    from qa.ingest import ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("城中村改造完成拆迁5500户。\n新建安置房100万平方米。\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([docs], settings)
    library = Library(settings)
    old = library.assistant
    upload = tmp_path / "tmp-upload"
    upload.write_text("地铁5号线站点建设全面开工。\n运河财富小镇引进金融企业三十家。\n", encoding="utf-8")
    steps = []
    result = library.add([(upload, "../地铁.txt"), (upload, "bad.exe")], lambda f, what: steps.append(f))
    assert [p.name for p in result.saved] == ["地铁.txt"] and len(result.refused) == 1
    assert result.report.added and steps[-1] == 1.0
    assert library.assistant is not old and "地铁" in library.assistant.index.documents
    assert "地铁" not in old.index.documents  # a question in flight keeps the index it started with
    assert (settings.index_dir / "uploads" / "地铁.txt").is_file()


def test_a_failed_ingest_removes_the_upload_and_keeps_the_assistant(tmp_path, tiny_st_model, monkeypatch):
    from qa import ingest as ingest_module

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("城中村改造完成拆迁5500户。\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest_module.ingest([docs], settings)
    library = Library(settings)
    old = library.assistant

    def broken(*a, **k):
        raise ValueError("two files share the name a")

    monkeypatch.setattr(ingest_module, "ingest", broken)
    upload = tmp_path / "u.txt"
    upload.write_text("五水共治成效明显。\n", encoding="utf-8")
    with pytest.raises(ValueError):
        library.add([(upload, "a.txt")])
    assert library.assistant is old and not (settings.index_dir / "uploads" / "a.txt").exists()


def test_correct_writes_overrides_and_reloads_for_retrieval(tmp_path, tiny_st_model):
    import json

    import pytest

    from qa.config import Settings
    from qa.ingest import ingest

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "r.txt").write_text("工作情况\n今年全区地区生产总值增长5%左右。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    library = Library(settings)
    old = library.assistant
    doc = library.correct("r", {"date": "2025年1月", "place": "广东省"})
    assert (doc.date, doc.place, doc.provenance["place"]["source"]) == ("2025-01", "广东省", "user")
    assert library.assistant is not old
    assert library.assistant.index.documents["r"].year == 2025
    saved = json.loads((settings.index_dir / "overrides.json").read_text(encoding="utf-8"))
    assert saved["documents"][0]["place"] == "广东省"
    with pytest.raises(ValueError, match="bad date"):
        library.correct("r", {"date": "2025-13"})
    with pytest.raises(ValueError, match="unknown document id"):
        library.correct("nope", {"date": "2025"})
