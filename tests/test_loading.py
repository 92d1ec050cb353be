import hashlib

import pytest

from qa import loading
from qa.loading import LoadError, decode, find_files, load, read_file

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
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    found, skipped = find_files([pdf, tmp_path / "missing.txt"])
    assert found == []
    reasons = {s.path.name: s.reason for s in skipped}
    assert "unsupported file type .pdf" in reasons["report.pdf"]
    assert ".txt" in reasons["report.pdf"]  # says what is supported
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
    (tmp_path / "scan.pdf").write_bytes(b"%PDF")
    found, skipped = find_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.md", "b.txt", "sub/c.TXT"]
    assert [(s.path.name, "unsupported" in s.reason) for s in skipped] == [("scan.pdf", True)]


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
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    loaded, skipped = load([good, pdf])
    assert [s.path for s in loaded] == [good]
    assert [s.path for s in skipped] == [pdf]
    assert "unsupported" in skipped[0].reason
