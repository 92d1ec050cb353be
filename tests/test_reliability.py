"""Nothing lost whatever users do at once: the write lock, crash leftovers, uploads, hostile files,
damaged indexes. The slow parts (kill -9 loops, 10,000 loads, 50 MB files) are in
scripts/reliability.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa import cli, store
from qa.config import Settings
from qa.ingest import ingest
from qa.library import Library
from qa.loading import decode, find_files
from qa.pipeline import check_question, clean_question

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path, tiny_st_model):
    return Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))


def doc_ids(settings) -> set[str]:
    return set(store.load(settings.index_dir).documents)


# --- one writer at a time ---------------------------------------------------------------------

def test_a_second_writer_waits_or_says_the_index_is_busy(tmp_path):
    root = tmp_path / "index"
    held, release = threading.Event(), threading.Event()

    def holder():
        with store.writer_lock(root):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    waited = []
    with pytest.raises(store.IndexBusy, match="busy.*nothing was changed"):
        with store.writer_lock(root, timeout=0.2, on_wait=waited.append):
            pass
    assert waited and "pid" in waited[0]
    release.set()
    t.join()
    with store.writer_lock(root, timeout=1):  # free again
        with store.writer_lock(root, timeout=0):  # and re-entrant in the thread that holds it
            assert store.holds_lock(root)


def test_two_ingests_at_once_keep_both(tmp_path, settings):
    a = write(tmp_path / "a", {f"a{i}.txt": f"城中村改造完成拆迁{i}000户。" for i in range(3)})
    b = write(tmp_path / "b", {f"b{i}.txt": f"地铁{i}号线站点建设全面开工。" for i in range(3)})
    errors = []

    def run(folder):
        try:
            ingest([folder], settings)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert doc_ids(settings) == {"a0", "a1", "a2", "b0", "b1", "b2"}


def test_sigterm_while_waiting_for_the_lock_is_one_line(tmp_path, settings):
    folder = write(tmp_path / "c", {"c.txt": "五水共治成效明显。"})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with store.writer_lock(settings.index_dir):
        proc = subprocess.Popen([sys.executable, "-m", "qa", "ingest", str(folder), "--index", str(settings.index_dir),
                                 "--embed-model", settings.embed_model], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []

        def watch():
            for line in proc.stderr:
                seen.append(line)
                if "waiting" in line:
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        watcher.join(120)  # the child says it waits for the lock
        assert any("waiting" in line for line in seen), seen
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        err = "".join(seen) + err
    assert proc.returncode == 143
    lines = [ln for ln in err.splitlines() if ln.startswith("qa:")]
    assert lines[-1].startswith("qa: terminated") and "Traceback" not in err
    assert store.current_build(settings.index_dir) is None


# --- crash leftovers and readers --------------------------------------------------------------

def test_the_next_ingest_removes_what_killed_writers_left(tmp_path, settings):
    folder = write(tmp_path / "c", {"a.txt": "城中村改造完成拆迁5500户。"})
    ingest([folder], settings)
    root = settings.index_dir
    current = store.current_build(root)
    (root / ".build-20250101-000000-1-1.partial").mkdir()
    (root / ".build-20250101-000000-1-1.partial" / "manifest.json").write_text("{}")
    (root / "build-20250101-000000-2-2").mkdir()  # renamed, but killed before CURRENT was switched
    (root / ".tmp-abc").mkdir()
    (root / ".CURRENT.123").write_text("build-x")
    (current / ".documents.9.tmp").write_text("")
    (folder / "b.txt").write_text("地铁5号线站点建设全面开工。", encoding="utf-8")
    ingest([folder], settings)
    names = sorted(p.name for p in root.iterdir())
    assert names == sorted(["CURRENT", store.LOCK_NAME, store.current_build(root).name])
    assert doc_ids(settings) == {"a", "b"}


def test_readers_never_fail_while_builds_are_swapped(tmp_path):
    from tests.test_store import TEXTS, make_index

    root = tmp_path / "index"
    store.save(root, make_index(TEXTS[:1]))
    stop, failures, loads = threading.Event(), [], [0]

    def reader():
        while not stop.is_set():
            try:
                index = store.load(root)
                assert len(index.passages) in (1, 3)
                loads[0] += 1
            except Exception as exc:  # noqa: BLE001 - counted
                failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for n in range(30):
        store.save(root, make_index(TEXTS[: 1 + 2 * (n % 2)]))
    stop.set()
    for t in threads:
        t.join()
    assert failures == [] and loads[0] > 0


# --- uploads ----------------------------------------------------------------------------------

def upload(tmp_path: Path, name: str, text: str | bytes) -> tuple[Path, str]:
    src = tmp_path / "incoming" / f"{time.monotonic_ns()}"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return src, name


def test_a_refused_upload_never_deletes_an_indexed_file(tmp_path, settings):
    ingest([write(tmp_path / "docs", {"base.txt": "运河财富小镇引进金融企业三十家。"})], settings)
    library = Library(settings)
    library.add([upload(tmp_path, "ok.txt", "城中村改造完成拆迁5500户。")])
    result = library.add([upload(tmp_path, "ok.txt", "城中村改造完成拆迁6000户。"),
                          upload(tmp_path, "dup2.txt", "地铁5号线站点建设全面开工。"),
                          upload(tmp_path, "dup2.md", "地铁6号线站点建设全面开工。")])
    assert any("dup2.md" in r for r in result.refused)
    assert (settings.index_dir / "uploads" / "ok.txt").read_text(encoding="utf-8") == "城中村改造完成拆迁6000户。"
    result = library.add([upload(tmp_path, "x.txt", "老旧小区改造惠及居民两万户。")])
    assert {"base", "ok", "dup2", "x"} <= set(library.assistant.index.documents)
    assert "6000" in library.assistant.index.documents["ok"].text


def test_a_failed_ingest_puts_the_replaced_upload_back(tmp_path, settings, monkeypatch):
    from qa import ingest as ingest_module

    ingest([write(tmp_path / "docs", {"base.txt": "运河财富小镇引进金融企业三十家。"})], settings)
    library = Library(settings)
    library.add([upload(tmp_path, "ok.txt", "城中村改造完成拆迁5500户。")])

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(ingest_module, "ingest", broken)
    with pytest.raises(OSError):
        library.add([upload(tmp_path, "ok.txt", "城中村改造完成拆迁6000户。"), upload(tmp_path, "new.txt", "新文件。")])
    uploads = settings.index_dir / "uploads"
    assert (uploads / "ok.txt").read_text(encoding="utf-8") == "城中村改造完成拆迁5500户。"
    assert not (uploads / "new.txt").exists()
    assert "ok" in library.assistant.index.documents


def test_an_unreadable_upload_does_not_stay_and_the_old_version_comes_back(tmp_path, settings):
    ingest([write(tmp_path / "docs", {"base.txt": "运河财富小镇引进金融企业三十家。"})], settings)
    library = Library(settings)
    library.add([upload(tmp_path, "ok.txt", "城中村改造完成拆迁5500户。")])
    result = library.add([upload(tmp_path, "bad.docx", b"PK\x03\x04 not really a zip"),
                          upload(tmp_path, "ok.txt", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
                          upload(tmp_path, "a b.txt", "甲。"), upload(tmp_path, "a_b.txt", "乙。")])
    uploads = settings.index_dir / "uploads"
    assert not (uploads / "bad.docx").exists()
    assert (uploads / "ok.txt").read_text(encoding="utf-8") == "城中村改造完成拆迁5500户。"
    assert any(r.startswith("bad.docx") for r in result.refused) and any(r.startswith("ok.txt") for r in result.refused)
    assert any("a_b.txt" in r and "same" in r for r in result.refused)
    assert (uploads / "a_b.txt").read_text(encoding="utf-8") == "甲。"
    assert "5500" in library.assistant.index.documents["ok"].text
    assert not [p for p in settings.index_dir.iterdir() if p.name.startswith(".")]


# --- hostile files ----------------------------------------------------------------------------

def test_every_bad_file_is_skipped_with_a_reason_and_the_rest_ingested(tmp_path, settings):
    folder = write(tmp_path / "c", {"good.txt": "城中村改造完成拆迁5500户。", "catalog.json": "{broken"})
    (tmp_path / "outside.txt").write_text("外面的秘密。", encoding="utf-8")
    (folder / "passwd.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "loop").symlink_to(folder)
    os.mkfifo(folder / "fifo.txt")
    with open(os.path.join(os.fsencode(folder), "报告".encode("gbk") + b".txt"), "wb") as f:
        f.write("地铁5号线站点建设全面开工。".encode("utf-8"))
    write(folder / "sub", {"good.txt": "重名的文件。"})
    (folder / "u32.txt").write_bytes("五水共治成效明显，河道水质全面改善。".encode("utf-32"))
    (folder / "u32le.txt").write_bytes("老旧小区改造惠及居民两万户。".encode("utf-32-le"))
    report = ingest([folder], settings)
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    bad_name = os.fsdecode("报告".encode("gbk") + b".txt")
    assert set(reasons) >= {"catalog.json", "passwd.txt", "loop", "fifo.txt", "good.txt", bad_name}
    assert "outside" in reasons["passwd.txt"] and "FIFO" in reasons["fifo.txt"]
    assert "UTF-8" in reasons[bad_name] and "rename" in reasons["good.txt"]
    index = store.load(settings.index_dir)
    assert set(index.documents) == {"good", "u32", "u32le"}
    assert "河道水质" in index.documents["u32"].text and "\x00" not in index.documents["u32le"].text
    assert all("外面" not in p.text for p in index.passages)


def test_utf32_and_utf16_without_a_mark_are_decoded_never_garbage():
    assert decode("报告全文。".encode("utf-32")) == ("报告全文。", "utf-32")
    assert decode("报告全文。".encode("utf-32-be")) == ("报告全文。", "utf-32-be")
    for text in ("一年来五水共治成效明显。", "五水共治。", "GDP growth 5%"):
        for enc in ("utf-16-le", "utf-16-be"):
            assert decode(text.encode(enc)) == (text, enc)
    with pytest.raises(Exception, match="binary"):
        decode(bytes(range(256)) * 8)


def test_links_inside_the_folder_are_taken_once(tmp_path):
    folder = write(tmp_path / "c", {"a.txt": "甲。"})
    (folder / "alias.txt").symlink_to(folder / "a.txt")
    files, skipped = find_files([folder])
    assert [f.name for f in files] == ["a.txt", "alias.txt"] and skipped == []


def test_docx_reads_each_style_once_not_per_paragraph(monkeypatch):
    import io

    import docx
    from docx.text.paragraph import Paragraph

    from qa.formats.docx import read

    d = docx.Document()
    d.add_heading("总体要求", level=1)
    d.add_paragraph("城中村改造完成拆迁5500户。")
    buf = io.BytesIO()
    d.save(buf)

    def slow(self):
        raise AssertionError("paragraph.style scans every style of the file")

    monkeypatch.setattr(Paragraph, "style", property(slow))
    assert read(buf.getvalue())[0] == "## 总体要求\n城中村改造完成拆迁5500户。"


def test_a_docx_zip_bomb_is_refused():
    import io
    import zipfile

    from qa.formats.docx import read
    from qa.loading import LoadError

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("word/document.xml", b"\x00" * (301 * 2**20))
    assert len(buf.getvalue()) < 2**20
    with pytest.raises(LoadError, match="zip bomb"):
        read(buf.getvalue())


# --- damaged indexes --------------------------------------------------------------------------

def _damage(build: Path, case: str) -> None:
    if case == "truncated faiss":
        data = (build / "dense.faiss").read_bytes()
        (build / "dense.faiss").write_bytes(data[: len(data) // 2])
    elif case in ("manifest extra key", "manifest missing key"):
        m = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if case == "manifest extra key":
            m["surprise"] = 1
        else:
            del m["dim"]
        (build / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    elif case == "passage missing a field":
        rows = (build / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        row = json.loads(rows[0])
        del row["text"]
        (build / "passages.jsonl").write_text("\n".join([json.dumps(row)] + rows[1:]) + "\n", encoding="utf-8")
    elif case == "truncated documents":
        data = (build / "documents.jsonl").read_bytes()
        (build / "documents.jsonl").write_bytes(data[: len(data) // 2])
    elif case == "missing bm25":
        for p in (build / "bm25").iterdir():
            p.unlink()


@pytest.mark.parametrize("case", ["truncated faiss", "manifest extra key", "manifest missing key",
                                  "passage missing a field", "truncated documents", "missing bm25"])
def test_a_damaged_index_is_one_line_and_exit_2(tmp_path, settings, capsys, case):
    ingest([write(tmp_path / "c", {"a.txt": "城中村改造完成拆迁5500户。\n地铁5号线站点建设全面开工。"})], settings)
    _damage(store.current_build(settings.index_dir), case)
    capsys.readouterr()  # the ingest's progress
    code = cli.main(["ask", "拆迁多少户", "--index", str(settings.index_dir)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "rebuild" in err, err


def test_questions_files_in_gbk_are_read_and_bad_ones_named(tmp_path, settings, capsys):
    ingest([write(tmp_path / "c", {"a.txt": "城中村改造完成拆迁5500户。"})], settings)
    gbk = tmp_path / "q.txt"
    gbk.write_bytes("拆迁多少户？\n".encode("gbk"))
    assert cli.main(["search", "--questions", str(gbk), "--index", str(settings.index_dir), "--json"]) == 0
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "拆迁多少户？"}\n{"question": "拆', encoding="utf-8")
    assert cli.main(["search", "--questions", str(bad), "--index", str(settings.index_dir)]) == 2
    assert "q.jsonl:2" in capsys.readouterr().err
    assert cli.main(["ask", "拆迁", "--doc", "nope", "--index", str(settings.index_dir)]) == 2
    assert "unknown document 'nope'" in capsys.readouterr().err


# --- questions --------------------------------------------------------------------------------

def test_questions_lose_control_characters_and_bad_ones_are_refused():
    assert clean_question("拆迁\x1b[31m多少户\x1b[0m？\x00\n") == "拆迁多少户？"
    assert clean_question("a\tb") == "a b"
    for bad, reason in ((None, "null"), (3, "int"), ("x" * 1001, "limit"), (" \x07 ", "empty")):
        with pytest.raises(ValueError, match=reason):
            check_question(bad)
