import io
import zipfile

import pytest

from qa.cleaning import clean, heading_level
from qa.formats import docx
from qa.loading import LoadError

from samples import make_docx


def test_headings_paragraphs_and_table_rows_in_order(tmp_path):
    text, fmt, pages = docx.read(make_docx(tmp_path / "r.docx").read_bytes())
    assert (fmt, pages) == ("docx", [])
    assert text.split("\n") == [
        "# 政府工作报告",
        "## 一、过去一年的工作",
        "全区经济稳步增长，城中村改造完成拆迁和整治五千五百户。",
        "### （一）城市建设",
        "地铁五号线站点建设全面开工。",
        "指标：拆迁户数；2016年：5500户；2017年：4000户。",
        "指标：安置房；2016年：100万平方米；2017年：80万平方米。",
        "## 二、今年的目标",
        "全年完成拆迁四千户。",
    ]


def test_heading_styles_become_heading_levels(tmp_path):
    lines = clean(docx.read(make_docx(tmp_path / "r.docx").read_bytes())[0]).split("\n")
    assert [heading_level(line) for line in lines[:5]] == [1, 2, None, 3, None]


def test_merged_cells_are_given_once(tmp_path):
    import docx as python_docx

    d = python_docx.Document()
    table = d.add_table(rows=2, cols=3)
    for c, text in enumerate(["项目", "2016年", "2017年"]):
        table.cell(0, c).text = text
    table.cell(1, 0).text = "拆迁"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "共9500户"
    d.save(str(tmp_path / "m.docx"))
    assert docx.read((tmp_path / "m.docx").read_bytes())[0] == "项目：拆迁；2016年：共9500户。"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("data, reason", [
    (_zip({"junk.bin": b"\x00\x01junk", "readme.txt": b"hello"}), "not a valid Word .docx"),
    (_zip({"[Content_Types].xml": b"<not xml"}), "not a valid Word .docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "not a zip"),  # an old binary .doc renamed
])
def test_broken_docx(data, reason):
    with pytest.raises(LoadError, match=reason):
        docx.read(data)


def test_properties_give_the_files_own_title(tmp_path):
    import docx as python_docx

    path = make_docx(tmp_path / "r.docx")
    assert docx.properties(path.read_bytes()) == {}
    d = python_docx.Document(str(path))
    d.core_properties.title = "2017年拱墅区政府工作报告"
    d.save(str(path))
    assert docx.properties(path.read_bytes()) == {"title": "2017年拱墅区政府工作报告"}
    assert docx.properties(b"not a zip") == {}
