import json

import numpy as np
import pytest

from qa import store
from qa.passages import PassageTable, lines
from qa.store import IndexUnusable
from qa.types import Passage

from tests.test_store import TEXTS, make_index


@pytest.mark.parametrize("data, expected", [
    (b"", []),
    (b"a\n", [b"a"]),
    (b"a\nbc", [b"a", b"bc"]),  # a last line without its newline
    (b"\n\na\n\n\nbc\n", [b"a", b"bc"]),  # blank lines are no rows
])
def test_lines(data, expected):
    starts, ends = lines(data)
    assert [data[a:b] for a, b in zip(starts, ends)] == expected


@pytest.mark.parametrize("data", [b"", "城中村\n地铁5号线\n\n运河\n".encode(), "运河\n\n末行没有换行".encode()])
def test_lines_across_scan_slices_and_read_from_a_file(monkeypatch, tmp_path, data):
    from qa import passages

    expected = [line for line in data.split(b"\n") if line]
    (tmp_path / "f.jsonl").write_bytes(data)
    for size in (3, 1 << 26):
        monkeypatch.setattr(passages, "SCAN_BYTES", size)
        for starts, ends in (lines(data), passages.file_lines(tmp_path / "f.jsonl")):
            assert [data[a:b] for a, b in zip(starts, ends)] == expected


def test_loaded_passages_are_read_on_demand_and_equal_the_saved_ones(tmp_path):
    index = make_index(TEXTS + ["第四段，含\n换行与\"引号\"😀。"])
    build = store.save(tmp_path, index)
    loaded = store.load(tmp_path)
    table = loaded.passages
    assert isinstance(table, PassageTable)
    assert len(table) == 4 and list(table) == index.passages
    assert table[-1] == index.passages[-1] and table[1:3] == index.passages[1:3]
    assert table[3].text == "第四段，含\n换行与\"引号\"😀。"
    np.testing.assert_array_equal(loaded.doc_rows(), [0, 1, 2, 3])
    np.testing.assert_array_equal(np.load(build / "passage_ids.npy"), index.ids)
    with pytest.raises(IndexError):
        table[4]


def test_a_damaged_middle_row_is_found_when_read(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    rows = (build / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    rows[1] = json.dumps({"passage_id": "x"})
    (build / "passages.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = store.load(tmp_path)  # rows are not parsed at load
    assert loaded.passages[0].text == TEXTS[0]
    with pytest.raises(IndexUnusable, match="rebuild"):
        loaded.passages[1]


def test_an_index_of_the_previous_format_is_refused_with_how_to_rebuild(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 1
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (build / "passage_ids.npy").unlink()
    (build / "passage_docs.npy").unlink()
    with pytest.raises(IndexUnusable, match="format version 1.*--rebuild"):
        store.load(tmp_path)


def test_missing_passage_arrays_are_damage(tmp_path):
    build = store.save(tmp_path, make_index(TEXTS))
    (build / "passage_docs.npy").unlink()
    with pytest.raises(IndexUnusable, match="rebuild"):
        store.load(tmp_path)


def test_lines_read_from_the_files_equal_the_mapped_ones(tmp_path):
    """What a new build copies of the kept rows (read with pread, not through the mappings)."""
    index = make_index(TEXTS + ["第四段，含\n换行与\"引号\"😀。"])
    build = store.save(tmp_path, index)
    loaded = store.load(tmp_path)
    table = loaded.passages
    assert [table.line(i) for i in range(len(table))] == [table.raw(i) for i in range(len(table))] == \
        (build / "passages.jsonl").read_bytes().splitlines()
    docs = list(loaded.documents.values())
    assert [d.stored_text() for d in docs] == (build / "texts.jsonl").read_bytes().splitlines()
    assert [json.loads(d.stored_text()) for d in docs] == [d.text for d in index.documents.values()]


def test_an_index_kept_to_the_end_of_the_program_closes_without_a_warning(tmp_path):
    """Tables still open when Python shuts down close their files without importing anything: an
    import then fails, and a program that kept an assistant to its end printed, at times, "Exception
    ignored in: <function PassageTable.__del__ …> … ImportError: sys.meta_path is None"."""
    import subprocess
    import sys
    from pathlib import Path

    store.save(tmp_path, make_index(TEXTS))
    program = (f"from pathlib import Path\nfrom qa import store\nindex = store.load(Path({str(tmp_path)!r}))\n"
               "index.passages.line(0)\nindex.cycle = index  # as an assistant and its index refer to each other\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
