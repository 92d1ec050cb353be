from pathlib import Path

import numpy as np
import pytest

from qa import describing
from qa import ingest as ingest_module
from qa import store
from qa.config import ConfigError, Settings
from qa.ingest import ingest, source_name
from qa.lexical import BM25

REPORT_A = """上半年工作报告
——在中共杭州市拱墅区委七届十次全体（扩大）会议上的报告
(2016年7月28日)
许 明
一、上半年主要工作
城中村改造完成拆迁和整治5500户，新建安置房100万平方米。
地铁5号线站点建设全面开工。"""
REPORT_B = """政府工作报告
（2017年1月5日）
各位代表：过去一年，全区经济稳步增长。
运河财富小镇引进金融企业三十家，税收增长明显。"""
NOTES_C = "五水共治成效明显，河道水质全面改善。\n老旧小区改造惠及居民两万户。"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(REPORT_A, encoding="utf-8")
    (folder / "b.txt").write_bytes(REPORT_B.encode("gb18030"))
    (folder / "c.md").write_text(NOTES_C, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    return folder


@pytest.fixture
def settings(tmp_path, tiny_st_model):
    return Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model), chunk_size=100)


@pytest.fixture(autouse=True)
def no_fallback_training(monkeypatch):
    """The tiny model is always there; training the fallback model would mean a test is wrong."""
    def refuse(*args, **kwargs):
        raise AssertionError("the fallback model was trained")

    monkeypatch.setattr(ingest_module, "train_corpus_model", refuse)


def sources(index) -> set[str]:
    return {d.source for d in index.documents.values()}


def test_ingest_folder(corpus, settings):
    report = ingest([corpus], settings)
    assert sorted(report.added) == sorted(source_name(corpus / n, settings.index_dir) for n in ("a.txt", "b.txt", "c.md"))
    assert report.updated == [] and report.removed == [] and report.unchanged == 0
    skipped = {s.path.name: s.reason for s in report.skipped}
    assert set(skipped) == {"empty.txt", "image.txt"}
    assert "empty" in skipped["empty.txt"] and "binary" in skipped["image.txt"]
    assert report.model == settings.embed_model
    assert report.notice is None

    index = store.load(settings.index_dir)
    assert report.documents == len(index.documents) == 3
    assert report.passages == len(index.passages) > 3
    assert index.manifest.embed_model == settings.embed_model
    assert index.manifest.dim == 32
    assert index.manifest.dense_weight == ingest_module.REAL_MODEL_WEIGHT
    assert (index.manifest.chunk_size, index.manifest.chunk_overlap) == (100, 1)
    a = index.documents["a"]
    assert (a.title, a.date, a.speaker) == ("上半年工作报告", "2016-07-28", "许明")
    assert index.documents["b"].text.startswith("政府工作报告")  # GB18030 decoded
    for p in index.passages:
        assert p.text == index.documents[p.doc_id].text[p.start:p.end]
    vectors = index.vectors()
    assert vectors.shape == (len(index.passages), 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert not (settings.index_dir / "build").exists()


def test_reingest_unchanged_makes_no_new_build(corpus, settings):
    ingest([corpus], settings)
    build = store.current_build(settings.index_dir)
    report = ingest([corpus], settings)
    assert report.unchanged == 3
    assert report.added == [] and report.updated == [] and report.removed == []
    assert report.documents == 3
    assert store.current_build(settings.index_dir) == build
    assert [p.name for p in settings.index_dir.iterdir() if p.name.startswith("build-")] == [build.name]


def test_modified_file_is_updated(corpus, settings):
    ingest([corpus], settings)
    before = store.load(settings.index_dir)
    (corpus / "c.md").write_text(NOTES_C.replace("两万户", "三万户"), encoding="utf-8")
    report = ingest([corpus], settings)
    assert report.updated == [source_name(corpus / "c.md", settings.index_dir)]
    assert report.added == [] and report.removed == [] and report.unchanged == 2
    after = store.load(settings.index_dir)
    assert after.folder != before.folder
    text = "\n".join(p.text for p in after.passages if p.doc_id == "c")
    assert "三万户" in text and "两万户" not in text
    # passages of the unchanged files are carried over as they were, vectors included
    kept = {p.passage_id for p in before.passages if p.doc_id != "c"}
    assert kept <= {p.passage_id for p in after.passages}
    old_vectors = dict(zip([p.passage_id for p in before.passages], before.vectors()))
    new_vectors = dict(zip([p.passage_id for p in after.passages], after.vectors()))
    for pid in kept:
        np.testing.assert_allclose(new_vectors[pid], old_vectors[pid])
    assert after.dense.ntotal == len(after.passages)
    assert after.manifest.documents[source_name(corpus / "c.md", settings.index_dir)] != before.manifest.documents[source_name(corpus / "c.md", settings.index_dir)]


def test_deleted_file_is_removed(corpus, settings):
    ingest([corpus], settings)
    (corpus / "b.txt").unlink()
    report = ingest([corpus], settings)
    assert report.removed == [source_name(corpus / "b.txt", settings.index_dir)]
    assert report.unchanged == 2 and report.documents == 2
    index = store.load(settings.index_dir)
    assert "b" not in index.documents
    assert all(p.doc_id != "b" for p in index.passages)
    assert not any("运河财富小镇" in p.text for p in index.passages)
    assert index.dense.ntotal == len(index.passages)
    assert source_name(corpus / "b.txt", settings.index_dir) not in index.manifest.documents


def test_ingesting_another_folder_keeps_the_first(corpus, settings, tmp_path):
    ingest([corpus], settings)
    other = tmp_path / "other"
    other.mkdir()
    (other / "d.txt").write_text("体育场馆建设服务亚运会。", encoding="utf-8")
    report = ingest([other], settings)
    assert report.added == [source_name(other / "d.txt", settings.index_dir)]
    assert report.removed == []  # files outside the ingested path are not "deleted"
    assert set(store.load(settings.index_dir).documents) == {"a", "b", "c", "d"}


def test_unreadable_file_keeps_its_previous_version(corpus, settings):
    ingest([corpus], settings)
    (corpus / "c.md").write_bytes(b"")
    report = ingest([corpus], settings)
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert "previously ingested version is kept" in reasons["c.md"]
    assert report.removed == []
    assert "c" in store.load(settings.index_dir).documents


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failure_during_save_keeps_the_previous_index(corpus, settings, monkeypatch, error):
    ingest([corpus], settings)
    before = store.load(settings.index_dir)
    (corpus / "c.md").write_text("全新的内容。", encoding="utf-8")

    def broken(self, folder):
        raise error

    monkeypatch.setattr(BM25, "save", broken)
    with pytest.raises(type(error)):
        ingest([corpus], settings)
    monkeypatch.undo()
    after = store.load(settings.index_dir)
    assert after.folder == before.folder
    assert [p.passage_id for p in after.passages] == [p.passage_id for p in before.passages]
    assert after.manifest.documents == before.manifest.documents
    assert not [p for p in settings.index_dir.iterdir() if p.name.endswith(".partial")]
    # and the next ingest still sees the change
    assert ingest([corpus], settings).updated == [source_name(corpus / "c.md", settings.index_dir)]


def test_rebuild(corpus, settings):
    ingest([corpus], settings)
    first = store.current_build(settings.index_dir)
    report = ingest([corpus], settings, rebuild=True)
    assert len(report.added) == 3 and report.unchanged == 0
    assert store.current_build(settings.index_dir) != first
    assert not first.exists()
    assert len(store.load(settings.index_dir).documents) == 3


def test_changing_chunk_size_needs_rebuild(corpus, settings, tiny_st_model):
    ingest([corpus], settings)
    bigger = Settings(index_dir=settings.index_dir, embed_model=str(tiny_st_model), chunk_size=200)
    with pytest.raises(ConfigError, match="--rebuild"):
        ingest([corpus], bigger)
    report = ingest([corpus], bigger, rebuild=True)
    assert report.documents == 3
    assert store.load(settings.index_dir).manifest.chunk_size == 200


def test_another_model_given_explicitly_is_refused(corpus, settings):
    ingest([corpus], settings)
    other = Settings(index_dir=settings.index_dir, embed_model="some-org/other-model", chunk_size=100)
    with pytest.raises(store.IndexUnusable, match="--rebuild"):
        ingest([corpus], other, embed_model_given=True)
    # not given explicitly (the default from the environment): the index's own model is used
    assert ingest([corpus], other).unchanged == 3


def test_catalog_overrides_detected_facts(corpus, settings):
    (corpus / "catalog.json").write_text(
        '{"documents": [{"file": "c.md", "title": "治水和小区改造", "date": "2018-03", "kind": "专题"}]}',
        encoding="utf-8")
    ingest([corpus], settings)
    c = store.load(settings.index_dir).documents["c"]
    assert (c.title, c.date, c.kind) == ("治水和小区改造", "2018-03", "专题")


def test_nothing_readable(tmp_path, settings):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    report = ingest([folder], settings)
    assert report.documents == 0 and report.passages == 0
    assert len(report.skipped) == 1
    assert store.current_build(settings.index_dir) is None  # no index that refuses every question


def test_fallback_model_when_the_configured_one_is_missing(corpus, tmp_path, monkeypatch):
    from qa.embedding import CORPUS_MODEL, train_corpus_model

    trained = []

    def small(texts, out_dir):
        trained.append(len(texts))
        return train_corpus_model(texts, out_dir, dim=16, vocab_size=300, steps=5)

    monkeypatch.setattr(ingest_module, "train_corpus_model", small)
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tmp_path / "no-model-here"), chunk_size=100)
    report = ingest([corpus], settings)
    assert report.model == CORPUS_MODEL
    assert "QA_EMBED_MODEL" in report.notice and CORPUS_MODEL in report.notice
    index = store.load(settings.index_dir)
    assert trained == [len(index.passages)]
    assert index.manifest.embed_model == CORPUS_MODEL
    assert index.manifest.dim == 16
    assert index.manifest.dense_weight == ingest_module.CORPUS_MODEL_WEIGHT
    assert (index.folder / "embedder" / "modules.json").is_file()

    # the next ingest reuses the saved model instead of training a new one
    (corpus / "c.md").write_text("体育场馆建设服务亚运会。", encoding="utf-8")
    report = ingest([corpus], settings)
    assert trained == [len(index.passages)]
    assert report.model == CORPUS_MODEL and report.notice is None
    again = store.load(settings.index_dir)
    assert (again.folder / "embedder" / "modules.json").is_file()
    assert again.dense.ntotal == len(again.passages)


def test_two_files_with_the_same_name_skip_the_second_and_ingest_the_rest(tmp_path, settings):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "a.txt").write_text(f"{sub}报告。城中村改造完成拆迁4000户。", encoding="utf-8")
    (tmp_path / "y" / "b.txt").write_text("地铁5号线站点建设全面开工。", encoding="utf-8")
    report = ingest([tmp_path / "x", tmp_path / "y"], settings)
    skipped = {str(s.path): s.reason for s in report.skipped}
    assert str(tmp_path / "y" / "a.txt") in skipped and "rename" in skipped[str(tmp_path / "y" / "a.txt")]
    assert sorted(report.added) == ["x/a.txt", "y/b.txt"]
    index = store.load(settings.index_dir)
    assert sources(index) == {"x/a.txt", "y/b.txt"} and "x报告" in index.documents["a"].text


def test_names_do_not_depend_on_the_working_folder(corpus, settings, tmp_path, monkeypatch):
    ingest([corpus], settings)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    report = ingest([corpus], settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 3)


def test_an_index_keyed_by_old_names_takes_the_same_files_again(corpus, settings):
    """An index made elsewhere (or keyed relative to another working folder) is not a clash."""
    import json

    ingest([corpus], settings)
    build = store.current_build(settings.index_dir)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"] = {f"/gone/{k}": v for k, v in manifest["documents"].items()}
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rows = [json.loads(line) for line in (build / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    (build / "documents.jsonl").write_text("".join(json.dumps({**r, "source": "/gone/" + r["source"]}) + "\n"
                                                   for r in rows), encoding="utf-8")
    report = ingest([corpus], settings)
    assert report.skipped and all("rename" not in s.reason for s in report.skipped)
    index = store.load(settings.index_dir)
    assert sources(index) == {"corpus/a.txt", "corpus/b.txt", "corpus/c.md"}
    assert len(report.updated) == 3


def test_documents_from_an_index_without_metadata_provenance_are_described_again(corpus, settings):
    import json

    from qa import store

    ingest([corpus], settings)
    build = store.current_build(settings.index_dir)
    rows = [json.loads(line) for line in (build / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:  # as an index written before place and provenance existed
        del row["place"], row["role"], row["provenance"]
    (build / "documents.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    assert all(not d.provenance for d in store.load(settings.index_dir).documents.values())
    report = ingest([corpus], settings)
    assert report.unchanged == 0 and len(report.updated) == len(sources(store.load(settings.index_dir)))
    assert all(d.provenance for d in store.load(settings.index_dir).documents.values())
    assert ingest([corpus], settings).updated == []


def test_reingest_unchanged_loads_no_model(corpus, settings, monkeypatch):
    """`make run` on an unchanged corpus: the files' hashes are compared and nothing heavy is done."""
    ingest([corpus], settings)

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded for an unchanged corpus")

    monkeypatch.setattr(ingest_module, "load_index_model", refuse)
    monkeypatch.setattr(ingest_module, "load_model", refuse)
    report = ingest([corpus], settings)
    assert report.unchanged == 3 and report.documents == 3 and report.passages > 3
    assert report.model == settings.embed_model


def test_an_incremental_ingest_segments_only_the_changed_reports(corpus, settings, tmp_path, monkeypatch):
    ingest([corpus], settings)
    (corpus / "c.md").write_text("五水共治成效明显，河道水质全面改善。\n新建公园绿地十二处。", encoding="utf-8")
    segmented = []
    real = ingest_module.Segmenting.start
    monkeypatch.setattr(ingest_module.Segmenting, "start",
                        lambda texts, total, groups, progress=False, out=None:
                        real(segmented.extend(texts) or segmented[len(segmented) - total:], total, groups, out=out))
    ingest([corpus], settings)
    assert segmented and all("公园" in t or "五水共治" in t for t in segmented)  # only c.md's passages
    again = store.load(settings.index_dir)
    fresh_settings = Settings(index_dir=tmp_path / "fresh", embed_model=settings.embed_model, chunk_size=100)
    ingest([corpus], fresh_settings, rebuild=True)
    fresh = store.load(fresh_settings.index_dir)
    by_id = {p.passage_id: i for i, p in enumerate(fresh.passages)}
    order = [by_id[p.passage_id] for p in again.passages]
    for query in (["城中村", "改造"], ["公园", "绿地"], ["河道"], ["没有的词"]):
        np.testing.assert_allclose(again.bm25.scores(query), fresh.bm25.scores(query)[order], rtol=1e-6)
    assert again.bm25.tokens_of(range(len(again.passages))) == [fresh.bm25.tokens_of([i])[0] for i in order]


def test_many_files_are_described_in_a_pool_as_in_one_process(corpus, settings, tmp_path, monkeypatch):
    ingest([corpus], settings)
    alone = store.load(settings.index_dir)
    monkeypatch.setattr(describing, "POOL_FILES", 1)
    monkeypatch.setattr(describing, "POOL_BATCH", 2)  # several batches in flight, taken in order
    pooled_settings = Settings(index_dir=tmp_path / "pooled", embed_model=settings.embed_model, chunk_size=100)
    report = ingest([corpus], pooled_settings)
    pooled = store.load(pooled_settings.index_dir)
    assert list(pooled.passages) == list(alone.passages)
    assert {k: (d.title, d.date, d.text) for k, d in pooled.documents.items()} == \
        {k: (d.title, d.date, d.text) for k, d in alone.documents.items()}
    assert {s.path.name for s in report.skipped} == {"empty.txt", "image.txt"}


def test_a_file_that_breaks_a_stage_is_skipped_with_why(monkeypatch):
    def broken(*args):
        raise ValueError("bad table")

    monkeypatch.setattr(describing, "_documents", broken)
    assert describing._describe((None, "a.txt", {}, {}, None)) == "ValueError: bad table"


def test_a_file_of_page_noise_only_is_skipped_with_why(tmp_path, settings):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "menu.txt").write_text("首页 > 新闻中心\n打印 关闭\n版权所有 网站地图\n", encoding="utf-8")
    (folder / "report.txt").write_text("一、工作回顾\n全区经济稳步增长，新建口袋公园四十二个。", encoding="utf-8")
    report = ingest([folder], settings)
    assert [Path(a).name for a in report.added] == ["report.txt"]
    assert [(s.path.name, "page noise" in s.reason) for s in report.skipped] == [("menu.txt", True)]


def test_an_index_of_an_older_format_is_rebuilt_by_ingest_from_its_files(corpus, tmp_path, settings):
    """A reader is told to rebuild; ingest rebuilds it, also from files an earlier ingest added."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "d.txt").write_text("新建口袋公园四十二个，引进高层次人才二百五十六名。", encoding="utf-8")
    ingest([corpus], settings)
    ingest([extra], settings)
    build = store.current_build(settings.index_dir)
    manifest = build / "manifest.json"
    raw = manifest.read_text(encoding="utf-8")
    manifest.write_text(raw.replace(f'"format_version": {store.FORMAT_VERSION}', '"format_version": 1'), encoding="utf-8")
    with pytest.raises(store.OlderFormat, match="--rebuild"):
        store.load(settings.index_dir)
    report = ingest([corpus], settings)
    assert "旧版本" in report.notice
    index = store.load(settings.index_dir)
    assert index.manifest.format_version == store.FORMAT_VERSION
    assert {Path(d.source).name for d in index.documents.values()} >= {"a.txt", "b.txt", "c.md", "d.txt"}


def test_an_incremental_ingest_carries_the_kept_passages_as_stored(corpus, settings, tmp_path, monkeypatch):
    """The other reports' passages are neither parsed nor written anew: their lines are copied;
    the index reads as one built from scratch."""
    from qa import passages as passages_module

    ingest([corpus], settings)
    before = store.current_build(settings.index_dir)
    old_lines = set((before / "passages.jsonl").read_bytes().splitlines())
    (corpus / "c.md").write_text("五水共治成效明显，河道水质全面改善。\n新建公园绿地十二处。", encoding="utf-8")
    (corpus / "d.txt").write_text("新建口袋公园四十二个，引进高层次人才二百五十六名。", encoding="utf-8")
    parsed = []
    real_parse = passages_module.parse
    monkeypatch.setattr(passages_module, "parse", lambda line: parsed.append(line) or real_parse(line))
    report = ingest([corpus], settings)
    assert report.updated == ["corpus/c.md"] and report.added == ["corpus/d.txt"]
    # of the old build's lines, the first and last rows, checked when the old index is loaded (the new
    # passages are parsed from where they wait to be written, qa.passages.Spilled)
    assert len([line for line in parsed if bytes(line) in old_lines]) <= 2
    monkeypatch.undo()
    again = store.load(settings.index_dir)
    lines = store.current_build(settings.index_dir).joinpath("passages.jsonl").read_bytes().splitlines()
    kept = [line for line in lines if line in old_lines]
    assert kept and len(kept) == sum(1 for p in again.passages if not p.doc_id.startswith(("c", "d")))
    fresh_settings = Settings(index_dir=tmp_path / "fresh", embed_model=settings.embed_model, chunk_size=100)
    ingest([corpus], fresh_settings, rebuild=True)
    fresh = store.load(fresh_settings.index_dir)
    assert sorted(again.passages, key=lambda p: p.passage_id) == sorted(fresh.passages, key=lambda p: p.passage_id)
    ids = list(again.documents)
    assert [ids[r] for r in again.doc_rows()] == [p.doc_id for p in again.passages]
    np.testing.assert_array_equal(again.ids, [store.passage_key(p.passage_id) for p in again.passages])
    assert {d: again.documents[d].text for d in again.documents} == {d: fresh.documents[d].text for d in fresh.documents}
