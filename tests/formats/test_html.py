import pytest

from qa.formats import html
from qa.loading import LoadError

from samples import make_html

EXPECTED = ["# 政府工作报告", "各位代表：过去一年，全区经济稳步增长。", "## 一、主要工作",
            "城中村改造完成拆迁五千五百户，新建安置房一百万平方米。", "## 二、今年目标", "全年计划拆迁四千户。"]
NOISE = ["首页", "当前位置", "网站导航", "脚本", "评论", "分享", "版权所有", "统计代码", "font-family", "门户网站"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])  # Big5: test_big5_page
def test_main_content_only_with_headings(tmp_path, encoding):
    path = make_html(tmp_path / "page.html", encoding)
    text, fmt, pages = html.read(path.read_bytes())
    assert text.split("\n") == EXPECTED
    assert not [n for n in NOISE if n in text]
    assert pages == []


def test_big5_page():
    page = '<html><head><meta charset="big5"></head><body><nav>首頁</nav><p>全區經濟穩步增長。</p></body></html>'
    text, fmt, _ = html.read(page.encode("big5"))
    assert text == "全區經濟穩步增長。" and fmt == "html/big5"


def test_charset_from_meta_wins_over_guessing():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><p>拆迁</p></body></html>'
    assert html.read(page.encode("gb18030"))[:2] == ("拆迁", "html/gb18030")


def test_page_without_main_markers_uses_body_and_title():
    page = "<html><head><title>工作报告</title></head><body><div>正文第一段。</div><div>正文第二段。</div></body></html>"
    assert html.read(page.encode())[0] == "# 工作报告\n正文第一段。\n正文第二段。"


def test_article_is_preferred_over_the_rest_of_the_body():
    page = ("<html><body><div>热门链接 推荐阅读 更多新闻</div><article><h1>报告</h1>"
            "<p>全区经济稳步增长，城中村改造完成。</p></article><div>热点新闻</div></body></html>")
    assert html.read(page.encode())[0] == "# 报告\n全区经济稳步增长，城中村改造完成。"


@pytest.mark.parametrize("furniture", ['<div class="side"><ul><li>热点专题</li></ul></div>',
                                       '<div id="side_box">热点专题</div>', '<div class="sidebar">热点专题</div>'])
def test_side_boxes_are_furniture(furniture):
    page = f"<html><body><div class='content'><p>全区经济稳步增长。</p></div>{furniture}</body></html>"
    assert html.read(page.encode())[0] == "全区经济稳步增长。"


def test_table_rows_become_sentences():
    page = "<html><body><table><tr><th>指标</th><th>数值</th></tr><tr><td>拆迁</td><td>4000户</td></tr></table></body></html>"
    assert html.read(page.encode())[0] == "指标；数值。\n拆迁；4000户。"


def test_xhtml_declaration_is_accepted():
    page = '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>正文。</p></body></html>'
    assert html.read(page.encode())[0] == "正文。"


def test_binary_is_refused():
    with pytest.raises(LoadError):
        html.read(b"\x00\x01\x02" * 100)
