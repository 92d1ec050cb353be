import pytest

from qa.cleaning import clean_pages
from qa.formats import pdf
from qa.loading import LoadError
from qa.ocr import available

from samples import make_blank_pdf, make_pdf

GROWTH = "全区经济稳步增长，地区生产总值达到九百亿元，一般公共预算收入持续提高，"
HOUSING = "城中村改造完成拆迁和整治五千五百户，新建安置房一百万平方米，地铁五号线站点建设全面开工，"
BLOCKS = [
    ("h", "一、过去一年的工作"),
    ("p", GROWTH * 3 + "人民生活水平明显改善。"),
    ("p", "第二段说的是运河财富小镇引进金融企业三十家。"),
    ("h", "二、城市建设"),
    ("p", HOUSING * 3 + "今年计划拆迁四千户。"),
    ("h", "三、今年的目标"),
    ("p", "全年目标是地区生产总值增长百分之七。"),
]


def read(path):
    text, fmt, pages = pdf.read(path.read_bytes())
    assert fmt == "pdf"
    return text, pages


def test_text_per_page_in_order_without_running_header_and_page_numbers(tmp_path):
    text, pages = read(make_pdf(tmp_path / "r.pdf", BLOCKS))
    assert len(pages) == 3
    assert pages[0].text == f"一、过去一年的工作\n{GROWTH * 3}人民生活水平明显改善。\n第二段说的是运河财富小镇引进金融企业三十家。"
    assert pages[1].text == f"二、城市建设\n{HOUSING * 3}今年计划拆迁四千户。"
    assert pages[2].text == "三、今年的目标\n全年目标是地区生产总值增长百分之七。"
    assert "拱墅区人民政府工作报告" not in text and "- 1 -" not in text
    assert not any(p.continues for p in pages)


def test_a_paragraph_running_over_a_page_break_is_joined_and_starts_the_page_mid_paragraph(tmp_path):
    long = "".join(f"第{n}句说的是城中村改造完成拆迁和整治五千五百户，新建安置房一百万平方米。" for n in range(1, 60))
    _, pages = read(make_pdf(tmp_path / "long.pdf", [("h", "一、总体要求"), ("p", long)], page_breaks=False))
    assert len(pages) >= 2
    assert pages[1].continues
    text, starts = clean_pages([p.text for p in pages], [p.continues for p in pages])
    assert text == f"一、总体要求\n{long}"
    assert 0 < starts[1] < len(text)


@pytest.mark.parametrize("footer", ["- {n} -", "第{n}页", "{n}", "{n}/3", "Page {n} of 3", "第{n}页 共3页"])
def test_page_number_styles_are_removed(tmp_path, footer):
    text, _ = read(make_pdf(tmp_path / "r.pdf", BLOCKS, header="", page_numbers=footer))
    assert text.split("\n")[0] == "一、过去一年的工作"
    assert text.endswith("全年目标是地区生产总值增长百分之七。")
    assert text.count("\n") == 6  # the seven blocks, nothing else


def test_a_single_page_keeps_its_top_line(tmp_path):
    text, _ = read(make_pdf(tmp_path / "one.pdf", BLOCKS[:3], header="本页顶部的标题", page_numbers=""))
    assert text.startswith("本页顶部的标题\n")


def test_letter_spaced_chinese_loses_its_spaces(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "spaced.pdf"))
    x = 72
    for ch in "政府工作报告":
        c.setFont("STSong-Light", 16)
        c.drawString(x, 700, ch)
        x += 30
    c.save()
    assert read(tmp_path / "spaced.pdf")[0] == "政府工作报告"


def test_pdf_without_text_layer(tmp_path):
    from qa.ocr import Ocr

    blank = make_blank_pdf(tmp_path / "scan.pdf")
    with pytest.raises(LoadError, match="no text layer.*--ocr auto"):
        pdf.read(blank.read_bytes(), Ocr("never"))
    if available() is None:  # a page of nothing but a black box: OCR finds no text either
        with pytest.raises(LoadError, match="no text found, not even by OCR"):
            read(blank)


def test_truncated_pdf(tmp_path):
    data = make_pdf(tmp_path / "r.pdf", BLOCKS).read_bytes()
    with pytest.raises(LoadError, match="truncated"):
        pdf.read(data[: len(data) // 2])


@pytest.mark.parametrize("data, reason", [
    (b"<html>not a pdf</html>", "not a PDF"),
    (b"%PDF-1.4\n garbage garbage\n%%EOF", "unreadable PDF"),
])
def test_not_a_pdf(data, reason):
    with pytest.raises(LoadError, match=reason):
        pdf.read(data)


def test_password_protected_pdf(tmp_path):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "locked.pdf"), encrypt=pdfencrypt.StandardEncryption("secret"))
    c.drawString(100, 700, "hello")
    c.save()
    with pytest.raises(LoadError, match="encrypted PDF"):
        read(tmp_path / "locked.pdf")


@pytest.mark.parametrize("line, is_number", [
    ("3", True), ("- 3 -", True), ("— 12 —", True), ("第3页", True), ("第 3 页 共 9 页", True), ("第三页", True),
    ("3/100", True), ("Page 3 of 9", True), ("p. 4", True),
    ("2017年", False), ("3.5%", False), ("第3章", False), ("一、总体要求", False),
])
def test_page_number_pattern(line, is_number):
    assert bool(pdf.PAGE_NUMBER.match(line)) == is_number


def _draw(path, pages):
    """A PDF drawn line by line: pages of (x, y, size, text)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    for lines in pages:
        for x, y, size, text in lines:
            c.setFont("STSong-Light", size)
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return path


def test_block_paragraphs_and_odd_even_running_headers(tmp_path):
    """No indents, a blank line between paragraphs; odd and even pages have different headers, and
    every body line differs from the same line of other pages only in its numbers."""
    full = "城中村改造完成拆迁和整治五千五百户，新建安置房一百万平方米，"  # a full line: 30 characters
    pages = []
    for n in range(1, 9):
        header = (72, 800, 9, "拱墅区政府工作报告") if n % 2 else (400, 800, 9, f"第{n // 4 + 1}章 城市建设")
        body = [(72, 760 - 16 * i - (16 if i >= 2 else 0), 12, t) for i, t in
                enumerate([f"第{n}页第一段{full}", f"地铁{n}号线开工。", f"第{n}页第二段{full}", "完成。"])]
        pages.append([header, *body, (290, 40, 9, f"{n}")])
    text, _, out = pdf.read(_draw(tmp_path / "block.pdf", pages).read_bytes())
    assert out[2].text == f"第3页第一段{full}地铁3号线开工。\n第3页第二段{full}完成。"
    assert not any(p.continues for p in out)
    assert "章" not in text and "拱墅区政府工作报告" not in text


def test_a_page_with_only_a_page_number_is_empty(tmp_path):
    pages = [[(72, 760, 12, "第一页的正文。"), (290, 40, 9, "1")], [(290, 40, 9, "2")], [(72, 760, 12, "第三页的正文。"), (290, 40, 9, "3")]]
    _, _, out = pdf.read(_draw(tmp_path / "p.pdf", pages).read_bytes())
    assert [p.text for p in out] == ["第一页的正文。", "", "第三页的正文。"]


def test_two_columns_are_read_column_by_column(tmp_path):
    columns = [[(x, 780 - 14 * i, 10, f"第{c}栏第{i}行的内容。") for i in range(1, 4)] for c, x in ((1, 50), (2, 310))]
    text, _, _ = pdf.read(_draw(tmp_path / "cols.pdf", [columns[0] + columns[1]]).read_bytes())
    assert text.split("\n") == [f"第{c}栏第{i}行的内容。" for c in (1, 2) for i in range(1, 4)]


@pytest.mark.parametrize("text, expected", [
    ("⼀⾏⼈", "一行人"),  # Kangxi radicals
    ("\uf900\ufa10", "豈塚"),  # CJK compatibility ideographs
    ("ﬁnancial", "financial"),
    ("全区，增长。（一）", "全区，增长。（一）"),  # full-width punctuation stays
])
def test_lookalike_characters_are_folded(text, expected):
    assert pdf.fold_lookalikes(text) == expected


def test_tightly_set_lines_do_not_borrow_characters_from_their_neighbours(tmp_path):
    lines = [f"第{i}行全区经济稳步增长，城中村改造完成拆迁（GDP增长8.5%）。" for i in range(6)]
    text, _, _ = pdf.read(_draw(tmp_path / "tight.pdf", [[(72, 700 - 11.5 * i, 12, t) for i, t in enumerate(lines)]]).read_bytes())
    assert text == "".join(lines)  # full lines, none indented: one paragraph


def test_one_wide_line_does_not_make_the_others_look_short(tmp_path):
    full = "城中村改造完成拆迁和整治五千五百户，新建安置房一百万平方米，地铁"  # 32 characters
    lines = [(72, 760, 12, full), (72, 744, 12, full), (72, 728, 12, "站点建设全面开工。"),
             (72, 700, 12, "附表：" + full + "统计数据")]  # wider than the text block
    text, _, _ = pdf.read(_draw(tmp_path / "wide.pdf", [lines]).read_bytes())
    assert text.split("\n")[0] == full * 2 + "站点建设全面开工。"


def test_properties_give_the_files_own_title(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "t.pdf"
    c = canvas.Canvas(str(path))
    c.setTitle("2017年拱墅区政府工作报告")
    c.drawString(100, 700, "report")
    c.save()
    assert pdf.properties(path.read_bytes())["title"] == "2017年拱墅区政府工作报告"
    assert pdf.properties(b"%PDF-1.4 broken") == {}
