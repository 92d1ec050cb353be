import json
from dataclasses import replace

import pytest

from qa import documents, store
from qa.documents import StoredDocument, TextTable
from qa.store import IndexUnusable

from tests.test_store import TEXTS, make_index

ODD = ["", "字", "含\n换行与\"引号\"和\\反斜杠😀 mixed 中英", "長江經濟帶" * 3000]


def test_loaded_documents_equal_the_saved_ones_and_keep_no_text(tmp_path):
    index = make_index(TEXTS + ODD)
    build = store.save(tmp_path, index)
    loaded = store.load(tmp_path).documents
    assert list(loaded) == list(index.documents)
    assert all(isinstance(d, StoredDocument) and d._text is None for d in loaded.values())
    assert loaded == index.documents and list(index.documents.values()) == list(loaded.values())
    assert [d.text for d in loaded.values()] == TEXTS + ODD
    assert all(d._text is None for d in loaded.values())  # reading a text does not keep it
    rows = [json.loads(line) for line in (build / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all("text" not in row for row in rows) and rows[0]["title"] == "标题0"
    assert len(TextTable(build / documents.TEXTS)) == len(TEXTS + ODD)


def test_a_text_set_on_a_loaded_document_is_the_one_read_and_saved_again(tmp_path):
    store.save(tmp_path, make_index(TEXTS))
    loaded = store.load(tmp_path)
    loaded.documents["doc1"].text = "改过的全文。"
    assert loaded.documents["doc1"].text == "改过的全文。"
    assert replace(loaded.documents["doc2"], title="新标题").text == TEXTS[2]
    store.save(tmp_path, loaded)  # the other texts are copied from the previous build's lines
    again = store.load(tmp_path).documents
    assert [d.text for d in again.values()] == [TEXTS[0], "改过的全文。", TEXTS[2]]


def test_corrected_metadata_is_saved_without_touching_the_texts(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    texts = (build / documents.TEXTS).read_bytes()
    loaded = store.load(tmp_path)
    loaded.documents["doc0"].title = "更正后的标题"
    store.save_documents(loaded)
    assert (build / documents.TEXTS).read_bytes() == texts
    again = store.load(tmp_path).documents["doc0"]
    assert (again.title, again.text) == ("更正后的标题", TEXTS[0])


@pytest.mark.parametrize("damage", ["bad json", "not a string", "a text missing"])
def test_damaged_texts_are_refused_with_how_to_rebuild(tmp_path, damage):
    build = store.save(tmp_path, make_index(TEXTS))
    path = build / documents.TEXTS
    rows = path.read_text(encoding="utf-8").splitlines()
    if damage == "a text missing":
        rows = rows[:-1]
    else:
        rows[1] = '"unterminated' if damage == "bad json" else "42"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if damage == "a text missing":
        with pytest.raises(IndexUnusable, match="3 documents, 2 texts.*--rebuild"):
            store.load(tmp_path)
        return
    loaded = store.load(tmp_path)  # texts are not parsed at load
    assert loaded.documents["doc0"].text == TEXTS[0]
    with pytest.raises(IndexUnusable, match="document row 1.*--rebuild"):
        loaded.documents["doc1"].text


def test_an_index_of_format_2_with_texts_inside_documents_is_refused_with_how_to_rebuild(tmp_path):
    index = make_index(TEXTS)
    build = store.save(tmp_path, index)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 2
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (build / "documents.jsonl").write_text("".join(json.dumps(store._row(d), ensure_ascii=False) + "\n"
                                                   for d in index.documents.values()), encoding="utf-8")
    (build / documents.TEXTS).unlink()
    with pytest.raises(store.OlderFormat, match="format version 2.*--rebuild"):
        store.load(tmp_path)
    assert store.recorded_sources(build) == [d.source for d in index.documents.values()]


def test_metadata_read_simplified_is_shown_in_the_reports_own_script():
    """Speaker, meeting and place are detected on simplified text; a traditional report shows them
    as it writes them, a simplified one and a value a user set as they are."""
    from qa.cli import render_doc
    from qa.types import Document

    trad = Document("t", "t.txt", "", "2025年重慶市政府工作報告", speaker="胡衡华", place="重庆市", role="市长",
                    meeting="重庆市第六届人民代表大会第三次会议",
                    provenance={"speaker": {"source": "byline", "confidence": 0.9}})
    assert trad.shown("speaker") == "胡衡華" and trad.shown("place") == "重慶市"
    assert trad.shown("meeting") == "重慶市第六屆人民代表大會第三次會議"
    assert trad.shown("title") == trad.title and trad.shown("date") is None
    listed = render_doc(trad)
    assert "市長 胡衡華" in listed and "胡衡华" not in listed
    simple = Document("s", "s.txt", "", "2025年重庆市政府工作报告", speaker="胡衡华")
    assert simple.shown("speaker") == "胡衡华"
    trad.provenance["speaker"] = {"source": "user", "confidence": 1.0}
    trad.speaker = "胡衡华"
    assert trad.shown("speaker") == "胡衡华"
