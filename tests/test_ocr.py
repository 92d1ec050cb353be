"""Scanned reports: which pages are OCR'd, the layout of OCR'd lines, the cache, the ingest summary
and JSON (with a stand-in engine, fast); then the real engine on scans made here: character
accuracy (clean and degraded), rotated pages, and an ingest of an image-only PDF, a mixed PDF
and a PNG whose answers cite the scanned page."""

from __future__ import annotations

import json
import os

import pytest

from qa import ocr as qa_ocr
from qa.config import ConfigError, Settings
from qa.formats import pdf
from qa.formats.image import ocr_lines
from qa.ingest import ingest
from qa.loading import read_file
from qa.ocr import Ocr, OcrLine, OcrPage

from samples import (SCAN_TEXT, char_accuracy, degrade, make_image_pdf, make_mixed_pdf, make_pdf, render_scan)

SCANNED_FACT = "城市更新专项资金安排三亿元，完成背街小巷整治二百一十条，新增公共停车位四千个。"
TEXT_PAGE = [("h", "政府工作报告"), ("p", "各位代表：过去一年，全区经济稳步增长，地区生产总值达到九百亿元。")]
LAST_PAGE = [("h", "三、今年的目标"), ("p", "运河财富小镇计划引进金融企业三十家，全年目标是税收增长百分之十。")]


def need(engine: str = "rapidocr") -> None:
    """Skip (outside CI) when the engine is not installed; in CI it must be."""
    reason = qa_ocr.available(engine)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"OCR engine {engine} missing in CI: {reason}")
        pytest.skip(f"OCR engine {engine} not installed: {reason}")


def small_scan(paragraphs, **kw):
    """A short page (4 inches tall: 7 lines of body text), so the real engine reads it in a second or two."""
    return render_scan(paragraphs, height_in=4, **kw)


# --- layout of OCR'd lines (no engine) ----------------------------------------------------------


def typeset(paragraphs, per_line=20, x0=100, top=100, size=30, lead=48, indent=2):
    """OcrLines as an engine would return them for paragraphs set in a column."""
    lines, y = [], top
    for para in paragraphs:
        first = True
        while para:
            n = per_line - (indent if first else 0)
            text, para = para[:n], para[n:]
            left = x0 + (indent * size if first else 0)
            lines.append(OcrLine(text, left + 1, y + (first * 2), left + len(text) * size - 1, y + size, 0.97))
            y, first = y + lead, False
    return lines


def test_one_column_lines_are_joined_into_paragraphs_and_indents_start_new_ones():
    paras = [SCAN_TEXT[0], SCAN_TEXT[1]]
    page = OcrPage(1000, 1400, typeset(paras))
    [out] = pdf._paragraphs([ocr_lines(page, 200)])
    assert out.text == "\n".join(paras)


def test_two_columns_are_read_left_column_first_below_a_title_across_both():
    left, right = [SCAN_TEXT[0], SCAN_TEXT[1]], [SCAN_TEXT[2], SCAN_TEXT[3]]
    lines = [OcrLine("两栏排版的报告", 400, 20, 620, 60, 0.99)]
    lines += typeset(left, per_line=12, x0=100) + typeset(right, per_line=12, x0=100 + 12 * 30 + 60)
    lines.sort(key=lambda ln: (ln.y0, ln.x0))  # as an engine gives them: row by row across the page
    [out] = pdf._paragraphs([ocr_lines(OcrPage(1000, 1400, lines), 200)])
    assert out.text == "\n".join(["两栏排版的报告", *left, *right])


def test_running_header_and_page_numbers_of_scanned_pages_are_dropped():
    pages = []
    for n, para in enumerate(SCAN_TEXT[:3], start=1):
        lines = [OcrLine("拱墅区人民政府工作报告", 380 + n, 30 + 2 * n, 640, 60, 0.98)]  # a scan shifts a little
        lines += typeset([para], top=200)
        lines.append(OcrLine(f"- {n} -", 480, 1330, 520, 1360, 0.95))
        pages.append(ocr_lines(OcrPage(1000, 1400, lines), 200))
    pdf._drop_running_lines(pages)
    out = pdf._paragraphs(pages)
    assert [p.text for p in out] == SCAN_TEXT[:3]


def test_boxes_of_one_printed_line_are_merged():
    page = OcrPage(1000, 400, [OcrLine("指标：拆迁户数", 100, 100, 310, 130, 0.9),
                               OcrLine("4000户", 330, 101, 420, 131, 0.9)])
    [line] = ocr_lines(page, 200)
    assert line.text == "指标：拆迁户数4000户"


# --- which pages are OCR'd (no engine) ----------------------------------------------------------


def plan(path, mode="auto"):
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    try:
        out = []
        for i in range(len(doc)):
            page = doc[i]
            out.append(pdf._page_lines(page, mode)[1])
            page.close()
        return out
    finally:
        doc.close()


def test_scanned_pages_and_pictures_are_found(tmp_path):
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    scan, _ = small_scan(SCAN_TEXT[:2])
    text_pdf = make_pdf(tmp_path / "text.pdf", [*TEXT_PAGE, *LAST_PAGE])
    assert plan(text_pdf) == [[], []]
    assert plan(text_pdf, "always") == [["page"], ["page"]]
    assert plan(make_image_pdf(tmp_path / "scan.pdf", [scan, scan]), "never") == [[], []]
    assert plan(make_image_pdf(tmp_path / "scan.pdf", [scan, scan])) == [["page"], ["page"]]
    assert plan(make_mixed_pdf(tmp_path / "mixed.pdf", [TEXT_PAGE, scan, LAST_PAGE])) == [[], ["page"], []]

    # a text page with a table pasted as a picture (half the page), and one with a small logo
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "picture.pdf"))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 780, "下表是主要指标的完成情况：")
    c.drawImage(ImageReader(scan), 72, 300, width=450, height=450 * scan.height / scan.width)
    c.showPage()
    c.setFont("STSong-Light", 12)
    c.drawString(72, 780, "本页只有一个小标志。")
    c.drawImage(ImageReader(Image.new("L", (60, 60), 0)), 500, 780, width=30, height=30)
    c.showPage()
    c.save()
    [picture], logo = plan(tmp_path / "picture.pdf")
    assert logo == []
    left, bottom, right, top = picture
    assert (round(left), round(bottom), round(right)) == (72, 300, 522)


# --- the cache, the ingest summary, JSON (a stand-in engine) ------------------------------------


class FakeEngine:
    """Reads every page as the same paragraph, with a set confidence, and counts its calls."""

    name, version, settings = "rapidocr", "fake", "fake"

    def __init__(self, text=SCANNED_FACT, confidence=0.97):
        self.text, self.confidence, self.calls = text, confidence, 0

    def recognize(self, image):
        self.calls += 1
        lines = typeset(["二、城市更新", self.text], top=image.height // 4)
        for line in lines:
            line.confidence = self.confidence
        return OcrPage(image.width, image.height, lines, 0, self.name)


@pytest.fixture
def fake(monkeypatch):
    engine = FakeEngine()
    monkeypatch.setitem(qa_ocr._ENGINES, "rapidocr", engine)
    return engine


def test_ocr_results_are_cached_as_json_by_page_content(tmp_path, fake):
    scan, _ = small_scan(SCAN_TEXT[:2])
    path = make_image_pdf(tmp_path / "scan.pdf", [scan, scan.rotate(180)])
    cache = tmp_path / "cache"
    first = read_file(path, Ocr(cache=cache))
    assert fake.calls == 2 and [p.ocr for p in first.pages] == [0.97, 0.97]
    again = Ocr(cache=cache)
    assert read_file(path, again).text == first.text
    assert fake.calls == 2 and again.pages_cached == 2
    files = sorted(cache.rglob("*.json"))
    assert len(files) == 2 and json.loads(files[0].read_text(encoding="utf-8"))["lines"][0]["text"]


def test_ingest_reports_ocr_pages_low_confidence_and_marks_passages(tmp_path, fake, tiny_st_model, capsys):
    from qa.cli import main

    fake.confidence = 0.6
    folder = tmp_path / "corpus"
    folder.mkdir()
    scan, _ = small_scan(SCAN_TEXT[:2])
    make_mixed_pdf(folder / "mixed.pdf", [TEXT_PAGE, scan, LAST_PAGE])
    code = main(["ingest", str(folder), "--index", str(tmp_path / "index"), "--embed-model", str(tiny_st_model),
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)
    assert summary["ocr"]["pages"] == 1
    [low] = summary["ocr"]["low_confidence"]
    assert low["page"] == 2 and low["confidence"] == 0.6 and low["source"].endswith("mixed.pdf")
    assert "low OCR confidence 0.60" in err and "第2页" in err

    code = main(["ask", "--json", "--index", str(tmp_path / "index"), "--mode", "bm25", "背街小巷整治了多少条？"])
    result = json.loads(capsys.readouterr()[0])
    cited = result["citations"] or [result["closest"]]
    assert cited[0]["page"] == 2 and cited[0]["ocr"] == 0.6
    assert {p["ocr"] for p in result["passages"] if p["page"] != 2} <= {None}


def test_ocr_never_skips_scans_with_a_reason_and_the_setting_comes_from_flag_env_default(
        tmp_path, fake, tiny_st_model, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()
    scan, _ = small_scan(SCAN_TEXT[:2])
    make_image_pdf(folder / "scan.pdf", [scan])
    scan.save(folder / "photo.png")
    (folder / "a.txt").write_text("政府工作报告\n全区经济稳步增长。", encoding="utf-8")
    monkeypatch.setenv("QA_OCR", "never")
    settings = Settings.resolve(index_dir=str(tmp_path / "index"), embed_model=str(tiny_st_model))
    assert settings.ocr == "never" and Settings.resolve(ocr="always").ocr == "always"
    report = ingest([folder], settings)
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert "--ocr auto" in reasons["scan.pdf"] and "--ocr auto" in reasons["photo.png"]
    assert fake.calls == 0 and report.documents == 1
    monkeypatch.setenv("QA_OCR", "sometimes")
    with pytest.raises(ConfigError, match="unknown OCR mode 'sometimes'"):
        Settings.resolve()


def test_an_interrupted_ocr_ingest_leaves_the_previous_index(tmp_path, fake, tiny_st_model):
    from qa import store

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("政府工作报告\n全区经济稳步增长。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    before = store.current_build(settings.index_dir)
    scan, _ = small_scan(SCAN_TEXT[:2])
    make_image_pdf(folder / "scan.pdf", [scan, scan])

    def interrupted(image):
        raise KeyboardInterrupt

    fake.recognize = interrupted
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], settings)
    assert store.current_build(settings.index_dir) == before
    assert len(store.load(settings.index_dir).documents) == 1


# --- the real engine ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    need()
    return qa_ocr.engine("rapidocr")


def page_body(page) -> str:
    return "".join(ln.text for ln in ocr_lines(page, 200))


def test_character_accuracy_on_clean_and_degraded_scans(engine):
    img, truth = small_scan(SCAN_TEXT[:2])
    clean = engine.recognize(img)
    assert char_accuracy("".join(truth), page_body(clean)) >= 0.98
    assert clean.confidence > 0.9
    poor = engine.recognize(degrade(img))
    assert char_accuracy("".join(truth), page_body(poor)) >= 0.95


@pytest.mark.parametrize("angle", [90, 180])
def test_rotated_pages_are_turned_upright(engine, angle):
    img, truth = small_scan(SCAN_TEXT[3:5])
    page = engine.recognize(img.rotate(angle, expand=True))
    assert page.rotation == angle
    assert char_accuracy("".join(truth), page_body(page)) >= 0.98


def test_tesseract_engine_reads_a_clean_page():
    """The other engine (QA_OCR_ENGINE=tesseract) works; it is the weaker reader here: it tends to
    lose a paragraph's short last line and a line's first character (README, scripts/bench_ocr.py)."""
    need("tesseract")
    img, truth = small_scan(SCAN_TEXT[:2])
    page = qa_ocr.engine("tesseract").recognize(img)
    assert page.engine == "tesseract" and page.confidence > 0.8
    assert char_accuracy("".join(truth), page_body(page)) >= 0.8


@pytest.mark.slow
def test_image_pdf_mixed_pdf_and_png_are_ingested_and_answers_cite_the_scanned_page(
        engine, tmp_path, tiny_st_model, capsys):
    from qa.cli import main

    folder = tmp_path / "corpus"
    folder.mkdir()
    scan, _ = small_scan([SCANNED_FACT, SCAN_TEXT[5]], title="城市更新")
    make_mixed_pdf(folder / "mixed.pdf", [TEXT_PAGE, degrade(scan), LAST_PAGE])
    first, _ = small_scan(SCAN_TEXT[:2], footer="- 1 -")
    second, _ = small_scan(SCAN_TEXT[2:4], title="二、生态环境", footer="- 2 -")
    make_image_pdf(folder / "scan.pdf", [first, second])
    png, _ = small_scan(SCAN_TEXT[6:8])
    png.save(folder / "photo.png")
    index = tmp_path / "index"
    assert main(["ingest", str(folder), "--index", str(index), "--embed-model", str(tiny_st_model), "--json"]) == 0
    summary = json.loads(capsys.readouterr()[0])
    assert summary["added"] and not summary["skipped"] and summary["ocr"]["pages"] == 4
    assert summary["ocr"]["low_confidence"] == []

    main(["ask", "--json", "--index", str(index), "--mode", "bm25", "背街小巷整治了多少条？"])
    [citation] = json.loads(capsys.readouterr()[0])["citations"]
    assert citation["source"].endswith("mixed.pdf") and citation["page"] == 2 and citation["ocr"] > 0.9
    assert "二百一十条" in citation["quote"]
    main(["ask", "--index", str(index), "--mode", "bm25", "背街小巷整治了多少条？"])
    assert "mixed.pdf 第2页" in capsys.readouterr()[0]

    main(["search", "--json", "--index", str(index), "--mode", "bm25", "-k", "20", "河道水质"])
    hits = json.loads(capsys.readouterr()[0])["results"]
    scan_pages = {h["page"] for h in hits if h["source"].endswith("scan.pdf")}
    assert scan_pages == {2}  # 五水共治 is on the second scanned page, under its heading
    main(["search", "--json", "--index", str(index), "--mode", "bm25", "安全生产形势"])
    top = json.loads(capsys.readouterr()[0])["results"][0]
    assert top["source"].endswith("photo.png") and top["page"] == 1 and top["ocr"] > 0.9

    # a rebuild reads every file again and finds the pages in the OCR cache
    assert main(["ingest", str(folder), "--index", str(index), "--rebuild", "--json"]) == 0
    again = json.loads(capsys.readouterr()[0])
    assert again["ocr"] == {"pages": 4, "cached": 4, "low_confidence": []}


def test_the_app_shows_that_a_source_came_from_ocr():
    from qa import render
    from qa.types import Answer, Citation, Document, Hit, Passage

    doc = Document("scan", "scan.pdf", SCANNED_FACT, "城市更新", pages=[0], page_ocr=[0.93])
    passage = Passage("scan:0-10:x", "scan", SCANNED_FACT, 0, len(SCANNED_FACT), page=1, last_page=1, ocr=0.93)
    hit = Hit(passage, 1.0)
    result = Answer("问题", SCANNED_FACT + "[1]", None, True, [Citation(1, hit, SCANNED_FACT)], [hit])
    html = render.sources_html(result, {"scan": doc}, "zh")
    assert "第1页" in html and "扫描页，OCR 识别（置信度 0.93）" in html
    assert "read by OCR (confidence 0.93)" in render.sources_html(result, {"scan": doc}, "en")
    assert doc.ocr_confidence(1, 1) == 0.93
