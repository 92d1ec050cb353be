import hashlib
import json

import numpy as np
import pytest

from qa import store
from qa.lexical import BM25, tokenize
from qa.store import FORMAT_VERSION, Index, IndexUnusable, Manifest, passage_key
from qa.types import Document, Passage

DIM = 8


def unit_vector(text: str) -> np.ndarray:
    """A deterministic unit vector from sha256 of the text (never Python's salted hash)."""
    raw = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[: DIM * 4], dtype=np.uint32)
    v = raw.astype(np.float32) - 2**31
    return v / np.linalg.norm(v)


def make_index(texts: list[str], model: str = "fake-model") -> Index:
    documents, passages = {}, []
    for n, text in enumerate(texts):
        doc = Document(f"doc{n}", f"corpus/doc{n}.txt", text, f"标题{n}", date=f"201{n}-07-28",
                       speaker="许明", meeting="全会", content_hash=f"hash{n}")
        documents[doc.doc_id] = doc
        passages.append(Passage(f"doc{n}:0-{len(text)}:x", doc.doc_id, text, 0, len(text), "一、总体要求"))
    ids = np.array([passage_key(p.passage_id) for p in passages], dtype=np.int64)
    dense = store.new_dense(DIM)
    if passages:
        dense.add_with_ids(np.vstack([unit_vector(p.text) for p in passages]), ids)
    manifest = Manifest(embed_model=model, dim=DIM, chunk_size=400, chunk_overlap=1, dense_weight=0.5,
                        documents={d.source: d.content_hash for d in documents.values()})
    return Index(manifest, documents, passages, ids, dense, BM25.build([tokenize(p.text) for p in passages]))


TEXTS = ["城中村改造完成拆迁和整治5500户。", "地铁5号线站点建设全面开工。", "运河财富小镇引进金融企业。"]


def test_save_load_round_trip(tmp_path):
    index = make_index(TEXTS)
    build = store.save(tmp_path / "index", index)
    assert build.parent == tmp_path / "index" and build.name.startswith("build-")
    assert index.folder == build
    loaded = store.load(tmp_path / "index")
    assert loaded.folder == build
    m = loaded.manifest
    assert (m.embed_model, m.dim, m.chunk_size, m.chunk_overlap, m.dense_weight) == ("fake-model", DIM, 400, 1, 0.5)
    assert m.format_version == FORMAT_VERSION
    assert m.documents == {"corpus/doc0.txt": "hash0", "corpus/doc1.txt": "hash1", "corpus/doc2.txt": "hash2"}
    assert m.counts == {"documents": 3, "passages": 3}
    assert m.created
    assert loaded.documents == index.documents
    assert loaded.passages == index.passages
    np.testing.assert_array_equal(loaded.ids, index.ids)
    np.testing.assert_allclose(loaded.vectors(), np.vstack([unit_vector(t) for t in TEXTS]), rtol=1e-6)
    tokens = tokenize("城中村改造拆迁")
    np.testing.assert_array_equal(loaded.bm25.scores(tokens), index.bm25.scores(tokens))


def test_saved_folder_is_transparent(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    names = {p.name for p in build.iterdir()}
    assert {"manifest.json", "documents.jsonl", "passages.jsonl", "dense.faiss", "bm25"} <= names
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    rows = [json.loads(line) for line in (build / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["text"] == TEXTS[0]  # readable Chinese, not escapes
    assert "城中村改造" in (build / "passages.jsonl").read_text(encoding="utf-8")
    assert not list(build.rglob("*.pkl"))


def test_empty_index_round_trip(tmp_path):
    store.save(tmp_path, make_index([]))
    loaded = store.load(tmp_path)
    assert loaded.passages == [] and loaded.documents == {}
    assert loaded.vectors().shape == (0, DIM)


def test_current_switches_and_previous_build_is_removed(tmp_path, monkeypatch):
    first = store.save(tmp_path, make_index(TEXTS[:1]))
    assert (tmp_path / "CURRENT").read_text() == first.name

    replaced = []
    real_replace = store.os.replace

    def spy(src, dst):
        # when CURRENT is switched, the build it points to is complete and the old one still there
        if str(dst).endswith("CURRENT"):
            name = open(src).read()
            replaced.append(name)
            assert (tmp_path / name / "manifest.json").is_file()
            assert (tmp_path / name / "dense.faiss").is_file()
            assert first.is_dir()
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", spy)
    second = store.save(tmp_path, make_index(TEXTS))
    assert replaced == [second.name]
    assert second != first
    assert (tmp_path / "CURRENT").read_text() == second.name
    assert not first.exists()
    assert store.current_build(tmp_path) == second
    assert len(store.load(tmp_path).passages) == 3
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_failed_save_keeps_the_previous_build(tmp_path, monkeypatch):
    first = store.save(tmp_path, make_index(TEXTS[:1]))

    def broken(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(BM25, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(tmp_path, make_index(TEXTS))
    assert store.current_build(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", first.name]
    assert [p.text for p in store.load(tmp_path).passages] == TEXTS[:1]


def test_save_copies_the_embedder_folder(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "modules.json").write_text("[]", encoding="utf-8")
    build = store.save(tmp_path / "index", make_index(TEXTS), embedder_dir=model)
    assert (build / "embedder" / "modules.json").read_text(encoding="utf-8") == "[]"


@pytest.mark.parametrize("setup", ["missing", "empty", "dangling"])
def test_load_without_index(tmp_path, setup):
    root = tmp_path / "index"
    if setup != "missing":
        root.mkdir()
    if setup == "dangling":
        (root / "CURRENT").write_text("build-gone")
    with pytest.raises(IndexUnusable, match="qa ingest") as err:
        store.load(root)
    assert str(root) in str(err.value)


def test_load_refuses_other_format_version(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = FORMAT_VERSION + 1
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexUnusable, match="--rebuild") as err:
        store.load(tmp_path)
    assert f"format version {FORMAT_VERSION + 1}" in str(err.value)


def test_load_refuses_unreadable_manifest(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    (build / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexUnusable, match="--rebuild"):
        store.load(tmp_path)


def test_load_refuses_another_model(tmp_path):
    store.save(tmp_path, make_index(TEXTS, model="model-a"))
    assert store.load(tmp_path, expect_model="model-a").manifest.embed_model == "model-a"
    with pytest.raises(IndexUnusable, match="model-a") as err:
        store.load(tmp_path, expect_model="model-b")
    assert "--rebuild" in str(err.value) and "--embed-model model-b" in str(err.value)


def test_load_refuses_vectors_that_do_not_match(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    with (build / "passages.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"passage_id": "extra", "doc_id": "doc0", "text": "多", "start": 0, "end": 1,
                            "section": "", "key": 1}, ensure_ascii=False) + "\n")
    with pytest.raises(IndexUnusable, match="damaged"):
        store.load(tmp_path)


def test_passage_key_is_stable_and_non_negative():
    # a fixed value: the key must not change between processes (unlike Python's salted hash)
    assert passage_key("doc:0-10:abcdef0123") == passage_key("doc:0-10:abcdef0123")
    assert passage_key("doc:0-10:abcdef0123") == 426888610743110992
    keys = [passage_key(f"doc:{i}-{i + 10}:x") for i in range(2000)]
    assert all(0 <= k < 2**63 for k in keys)
    assert len(set(keys)) == len(keys)


def test_pages_round_trip_and_an_index_saved_before_pages_still_loads(tmp_path):
    index = make_index(TEXTS)
    doc = index.documents["doc0"]
    doc.pages, doc.first_page = [0, 5], 3
    index.passages[0].page, index.passages[0].last_page = 3, 4
    build = store.save(tmp_path / "index", index)
    loaded = store.load(tmp_path / "index")
    assert (loaded.documents["doc0"].pages, loaded.documents["doc0"].first_page) == ([0, 5], 3)
    assert loaded.passages[0].page_label == "第3–4页"
    for name, fields in (("documents.jsonl", ("pages", "first_page")), ("passages.jsonl", ("page", "last_page"))):
        rows = [json.loads(line) for line in (build / name).read_text(encoding="utf-8").splitlines()]
        (build / name).write_text("".join(json.dumps({k: v for k, v in r.items() if k not in fields},
                                                     ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    old = store.load(tmp_path / "index")
    assert old.documents["doc0"].pages == [] and old.documents["doc0"].page_at(0) is None
    assert all(p.page is None for p in old.passages)
