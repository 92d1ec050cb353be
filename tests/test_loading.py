import hashlib
import zipfile

import pytest

from qa import loading
from qa.loading import LoadError, decode, find_files, load, read_file

from samples import make_docx, make_html, make_pdf

SIMPLIFIED = "全区经济稳步增长，城中村改造完成拆迁和整治五千五百户。"
TRADITIONAL = "全區經濟穩步增長，城中村改造完成拆遷和整治。"


@pytest.mark.parametrize("data, text, encoding", [
    (SIMPLIFIED.encode("utf-8"), SIMPLIFIED, "utf-8"),
    (SIMPLIFIED.encode("utf-8-sig"), SIMPLIFIED, "utf-8-sig"),
    (SIMPLIFIED.encode("gb18030"), SIMPLIFIED, "gb18030"),
    (TRADITIONAL.encode("big5"), TRADITIONAL, "big5"),
    (SIMPLIFIED.encode("utf-16"), SIMPLIFIED, "utf-16"),  # little-endian with BOM
    (b"\xfe\xff" + SIMPLIFIED.encode("utf-16-be"), SIMPLIFIED, "utf-16"),
    ("GDP 增长 8% 🎉".encode("utf-8"), "GDP 增长 8% 🎉", "utf-8"),
    (b"plain English text", "plain English text", "utf-8"),
], ids=["utf8", "utf8-bom", "gb18030", "big5", "utf16le-bom", "utf16be-bom", "emoji", "ascii"])
def test_decode_encodings(data, text, encoding):
    assert decode(data) == (text, encoding)


def test_decode_strips_the_bom():
    text, _ = decode("你好".encode("utf-8-sig"))
    assert not text.startswith("\ufeff")


@pytest.mark.parametrize("data", [b"a\r\nb\rc\n", "一\r\n二\r三\n".encode("gb18030"), "一\r\n二".encode("utf-16")])
def test_decode_normalises_line_ends(data):
    text, _ = decode(data)
    assert "\r" not in text
    assert text.count("\n") >= 1


def test_crlf_becomes_lf_exactly():
    assert decode("一行\r\n二行\r三行".encode("utf-8"))[0] == "一行\n二行\n三行"


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (bytes(range(0x80, 0x100)) * 4, "cannot decode"),
    (b"\xff\xfea", "byte-order mark"),
])
def test_decode_refuses(data, reason):
    with pytest.raises(LoadError, match=reason):
        decode(data)


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", "\u3000\n".encode("utf-8"), b"\xef\xbb\xbf"])
def test_read_file_empty_or_whitespace(tmp_path, data):
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(LoadError, match="empty"):
        read_file(path)


def test_read_file_returns_text_encoding_and_hash(tmp_path):
    data = SIMPLIFIED.encode("gb18030")
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    source = read_file(path)
    assert source.path == path
    assert source.text == SIMPLIFIED
    assert source.encoding == "gb18030"
    assert source.content_hash == hashlib.sha256(data).hexdigest()


def test_read_file_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_BYTES", 10)
    path = tmp_path / "big.txt"
    path.write_text(SIMPLIFIED, encoding="utf-8")
    with pytest.raises(LoadError, match="larger than"):
        read_file(path)


def test_find_files_explicit_unsupported_and_missing(tmp_path):
    doc = tmp_path / "report.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0")
    found, skipped = find_files([doc, tmp_path / "missing.txt"])
    assert found == []
    reasons = {s.path.name: s.reason for s in skipped}
    assert "unsupported file type .doc: save it as .docx" in reasons["report.doc"]
    assert ".txt" in reasons["report.doc"] and ".pdf" in reasons["report.doc"]  # says what is supported
    assert reasons["missing.txt"] == "no such file or folder"


def test_find_files_folder_is_sorted_recursive_and_ignores_hidden(tmp_path):
    (tmp_path / "b.txt").write_text("乙", encoding="utf-8")
    (tmp_path / "a.md").write_text("甲", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.TXT").write_text("丙", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隐", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("隐", encoding="utf-8")
    (tmp_path / "sub" / ".cache").mkdir()
    (tmp_path / "sub" / ".cache" / "y.md").write_text("隐", encoding="utf-8")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    (tmp_path / "sub" / "d.PDF").write_bytes(b"%PDF")
    found, skipped = find_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.md", "b.txt", "sub/c.TXT", "sub/d.PDF"]
    assert [(s.path.name, "unsupported" in s.reason) for s in skipped] == [("sheet.xlsx", True)]


def test_find_files_inside_a_hidden_root_folder(tmp_path):
    # only hidden parts *below* the given folder are ignored
    root = tmp_path / ".reports"
    root.mkdir()
    (root / "a.txt").write_text("甲", encoding="utf-8")
    found, _ = find_files([root])
    assert found == [root / "a.txt"]


def test_load_folder_with_good_and_bad_files(tmp_path):
    (tmp_path / "good_utf8.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (tmp_path / "good_big5.txt").write_bytes(TRADITIONAL.encode("big5"))
    (tmp_path / "good_crlf.md").write_bytes("# 标题\r\n正文。\r\n".encode("utf-8"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b" \n \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "junk.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    loaded, skipped = load([tmp_path])
    assert sorted(s.path.name for s in loaded) == ["good_big5.txt", "good_crlf.md", "good_utf8.txt"]
    texts = {s.path.name: s.text for s in loaded}
    assert texts["good_big5.txt"] == TRADITIONAL
    assert texts["good_crlf.md"] == "# 标题\n正文。\n"
    reasons = {s.path.name: s.reason for s in skipped}
    assert set(reasons) == {"empty.txt", "blank.txt", "binary.txt", "junk.txt"}
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "decode" in reasons["junk.txt"]
    assert all("\n" not in r for r in reasons.values())  # one-line reasons


def test_load_explicit_files_keeps_unsupported_in_skipped(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text(SIMPLIFIED, encoding="utf-8")
    sheet = tmp_path / "b.xlsx"
    sheet.write_bytes(b"PK")
    loaded, skipped = load([good, sheet])
    assert [s.path for s in loaded] == [good]
    assert [s.path for s in skipped] == [sheet]
    assert "unsupported" in skipped[0].reason


# --- PDF, Word and HTML files next to text files; broken ones are skipped, the rest still load ---

def test_load_folder_of_every_format_with_broken_files(tmp_path):
    good_pdf = make_pdf(tmp_path / "report.pdf", [("h", "一、总体要求"), ("p", "全区经济稳步增长。"),
                                                  ("h", "二、城市建设"), ("p", "今年计划拆迁四千户。")])
    make_docx(tmp_path / "report2.docx")
    make_html(tmp_path / "page.htm", "gb18030")
    (tmp_path / "gbk.txt").write_bytes(SIMPLIFIED.encode("gbk"))
    (tmp_path / "big5.txt").write_bytes(TRADITIONAL.encode("big5"))
    data = good_pdf.read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(tmp_path / "junk.docx", "w") as z:  # a zip, but of junk
        z.writestr("junk.bin", bytes(range(256)) * 4)
    (tmp_path / "zero.pdf").write_bytes(b"")
    (tmp_path / "zero.docx").write_bytes(b"")
    (tmp_path / "zero.html").write_bytes(b"")
    loaded, skipped = load([tmp_path])
    got = {s.path.name: s for s in loaded}
    assert sorted(got) == ["big5.txt", "gbk.txt", "page.htm", "report.pdf", "report2.docx"]
    assert got["gbk.txt"].text == SIMPLIFIED and got["big5.txt"].text == TRADITIONAL
    assert [p.text for p in got["report.pdf"].pages] == ["一、总体要求\n全区经济稳步增长。", "二、城市建设\n今年计划拆迁四千户。"]
    assert got["report.pdf"].text == "\n".join(p.text for p in got["report.pdf"].pages)
    assert got["report2.docx"].text.startswith("# 政府工作报告\n") and got["report2.docx"].pages == []
    assert "全年计划拆迁四千户。" in got["page.htm"].text
    reasons = {s.path.name: s.reason for s in skipped}
    assert set(reasons) == {"truncated.pdf", "junk.docx", "zero.pdf", "zero.docx", "zero.html"}
    assert "truncated" in reasons["truncated.pdf"]
    assert "not a valid Word .docx" in reasons["junk.docx"]
    assert all(reasons[n] == "file is empty" for n in ("zero.pdf", "zero.docx", "zero.html"))
    assert all("\n" not in r for r in reasons.values())


def test_the_same_text_in_gbk_big5_and_utf16_reads_the_same(tmp_path):
    for name, data in {"gbk.txt": TRADITIONAL.encode("gb18030"), "big5.txt": TRADITIONAL.encode("big5"),
                       "u16.txt": TRADITIONAL.encode("utf-16"), "mixed.txt": (TRADITIONAL + "\r\n第二行\r第三行\n").encode("big5")}.items():
        (tmp_path / name).write_bytes(data)
    texts = {s.path.name: s.text for s in load([tmp_path])[0]}
    assert texts["gbk.txt"] == texts["big5.txt"] == texts["u16.txt"] == TRADITIONAL
    assert texts["mixed.txt"] == TRADITIONAL + "\n第二行\n第三行\n"


def test_supported_suffixes_cover_the_new_formats():
    assert {".txt", ".md", ".pdf", ".docx", ".html", ".htm"} <= set(loading.SUFFIXES)
