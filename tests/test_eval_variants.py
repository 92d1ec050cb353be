"""scripts/eval_variants.py: each variant rewrites the reports and their questions consistently."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from qa.cleaning import clean
from qa.formats import html as html_format

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("eval_variants", ROOT / "scripts" / "eval_variants.py")
variants = importlib.util.module_from_spec(spec)
sys.modules["eval_variants"] = variants
spec.loader.exec_module(variants)

NEW = "2025年某省政府工作报告\n一、2024年工作回顾\n2024年全省生产总值增长5.8%。\n二、2025年目标\n今年增长5%左右。\n"
OLD = "1954年政府工作报告\n一九五三年粮食产量增长，1953年完成计划。\n"


def reports(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, text in (("provincial-x-2025-report.txt", NEW), ("provincial-y-2025-report.txt", NEW),
                       ("national-z-1954-report.txt", OLD)):
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    rows = [{"id": "a", "question": "2024年生产总值增长多少？", "answers": ["5.8%"], "evidence": "2024年全省生产总值增长5.8%。",
             "doc": "provincial-x-2025-report.txt", "about": "provincial-x-2025-report.txt"},
            {"id": "b", "question": "1953年完成计划了吗？", "answers": ["1953年"], "about": "national-z-1954-report.txt"}]
    return paths, rows


def test_years_moved_shifts_provincial_reports_and_their_questions_and_renames_them_apart(tmp_path):
    paths, rows = reports(tmp_path)
    out = tmp_path / "moved"
    asked = variants.variant("years moved", paths, rows, out)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 3 and not any("2025" in n for n in names)  # two 2025 reports, two names
    moved = next(out.glob("provincial-x-*"))
    assert moved.read_text(encoding="utf-8") == NEW.replace("2025", "2022").replace("2024", "2021")
    assert asked[0]["question"] == "2021年生产总值增长多少？" and asked[0]["evidence"].startswith("2021年")
    assert asked[0]["about"] == asked[0]["doc"] == moved.name
    assert asked[1]["question"] == rows[1]["question"]  # a national report is as found
    assert (out / "national-z-1954-report.txt").read_text(encoding="utf-8") == OLD


def test_one_line_and_web_page_keep_the_text_and_lose_the_lines(tmp_path):
    paths, rows = reports(tmp_path)
    one = tmp_path / "one"
    variants.variant("one line", paths[:1], rows[:1], one)
    assert (one / paths[0].name).read_text(encoding="utf-8") == NEW.replace("\n", "")
    web = tmp_path / "web"
    asked = variants.variant("web page", paths[:1], rows[:1], web)
    page = web / asked[0]["about"]
    assert page.suffix == ".html"
    text = html_format.read(page.read_bytes())[0]
    assert clean(text).split("\n")[-4:] == clean(NEW).split("\n")[-4:]  # the menu and footer are gone
    assert "版权所有" not in clean(text) and "当前位置" not in clean(text)


def test_pdf_reads_back_as_the_report(tmp_path):
    from qa import loading
    from qa.cleaning import clean_pages

    paths, rows = reports(tmp_path)
    asked = variants.variant("pdf", paths[:1], rows[:1], tmp_path / "pdf")
    source = loading.read_file(tmp_path / "pdf" / asked[0]["about"])
    text, _ = clean_pages([p.text for p in source.pages], [p.continues for p in source.pages])
    # one page: its running header (the title) is read as text once more, its page number is dropped
    assert text.endswith(clean(NEW)) and "- 1 -" not in text


def test_renamed_files_carry_no_year_nor_place(tmp_path):
    paths, rows = reports(tmp_path)
    asked = variants.variant("renamed", paths, rows, tmp_path / "renamed")
    assert sorted(p.name for p in (tmp_path / "renamed").iterdir()) == ["report-00.txt", "report-01.txt", "report-02.txt"]
    assert [r["about"] for r in asked] == ["report-00.txt", "report-02.txt"]
    assert asked[0]["question"] == rows[0]["question"]


def test_elsewhere_asks_every_question_of_the_bundled_corpus_as_unanswerable(tmp_path):
    paths, rows = reports(tmp_path)
    asked = variants.variant("elsewhere", paths, rows, tmp_path / "elsewhere")
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == sorted(
        p.name for p in (ROOT / "data" / "corpus").glob("*"))
    assert [(r["question"], r["answerable"], r["answers"]) for r in asked] == [(r["question"], False, []) for r in rows]
