"""The chat app's HTML: markers link to sources, the quote is highlighted, nothing is executable."""

import subprocess
import sys

import pytest

from qa.answering import NOT_FOUND
from qa.render import answer_message, highlight, md_text, sources_html
from qa.types import Answer, Citation, Document, Hit, Passage

EVIL = '<script>alert(1)</script><img src=x onerror=alert(1)>'


def make_answer(quote="2019年计划拆迁3000户。", text=None, title="2019年政府工作报告"):
    text = text or f"一、城中村改造\n{quote}张伟指出，要加快推进地铁5号线建设。"
    doc = Document("gov", "docs/gov.txt", "标题\n" + text + "\n结尾", title, "2019-01-10", "张伟")
    p = Passage("gov-1", "gov", text, 3, 3 + len(text), "一、城中村改造")
    hit = Hit(p, 0.9)
    return Answer("q", quote + "[1]", "3000户", True, [Citation(1, hit, quote)], [hit]), {"gov": doc}


def test_markers_become_links_to_their_source():
    html = answer_message("2019年计划拆迁3000户。[1][2]")
    assert '<a href="#src-1" class="qa-cite">[1]</a>' in html
    assert '<a href="#src-2" class="qa-cite">[2]</a>' in html


def test_sources_panel_highlights_the_quote_inside_its_passage():
    result, docs = make_answer()
    html = sources_html(result, docs)
    assert 'id="src-1"' in html and "《2019年政府工作报告》" in html
    assert "<mark>2019年计划拆迁3000户。</mark>" in html
    assert "2019-01-10" in html and "张伟" in html and "一、城中村改造" in html
    assert "<details" in html and "结尾" in html  # the surrounding text of the document


@pytest.mark.parametrize("where", ["quote", "title", "question"])
def test_script_and_img_render_as_text(where):
    if where == "question":
        html = answer_message(EVIL, short=EVIL, searched=EVIL)
    else:
        result, docs = make_answer(quote=EVIL if where == "quote" else "拆迁3000户。",
                                   title=EVIL if where == "title" else "报告")
        html = sources_html(result, docs)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_markdown_in_text_is_disarmed():
    assert md_text("**粗体** [链接](http://x) `代码`") == r"\*\*粗体\*\* \[链接\](http://x) \`代码\`"


def test_refusal_lists_closest_passages_as_may_be_related():
    result, docs = make_answer()
    refused = Answer("q", NOT_FOUND, None, False, [], result.hits)
    html = sources_html(refused, docs)
    assert "可能相关" in html and 'id="src-' not in html
    assert "May be related" in sources_html(refused, docs, "en")


def test_refusal_is_translated_in_english():
    assert answer_message(NOT_FOUND, "zh") .startswith("资料中未找到")
    assert "No content directly relevant" in answer_message("No content directly relevant to the question was found in the documents.", "en")


def test_searched_question_is_shown_in_small_text():
    html = answer_message("答案[1]", searched="2020年计划拆迁多少户？")
    assert '<small class="qa-searched">检索的问题：2020年计划拆迁多少户？</small>' in html


@pytest.mark.parametrize("passage, quote", [("", None), ("字", "字"), ("无此句", "别的"), ("a<b>" * 1000, "a<b>")])
def test_highlight_edge_cases(passage, quote):
    out = highlight(passage, quote)
    assert "<b>" not in out.replace("<mark>", "")
    assert out.count("<mark>") == (1 if quote and quote in passage else 0)


def test_importing_qa_does_not_import_gradio():
    code = "import sys, qa, qa.render, qa.library, qa.followup, qa.ui_text; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_sources_show_the_page_of_a_pdf_passage():
    from qa.render import sources_html
    from qa.types import Answer, Citation, Document, Hit, Passage

    doc = Document("r", "r.pdf", "第一页。\n拆迁5500户。", "报告")
    p = Passage("r:5-12:x", "r", "拆迁5500户。", 5, 12, page=2, last_page=3)
    result = Answer("拆迁多少户？", "拆迁5500户。[1]", "5500户", True, [Citation(1, Hit(p, 1.0), "拆迁5500户。")], [Hit(p, 1.0)])
    assert "第2–3页" in sources_html(result, {"r": doc}, "zh")
    assert "pp. 2–3" in sources_html(result, {"r": doc}, "en")


def test_confidence_is_shown_and_a_low_one_marked():
    from qa.types import Answer, Citation, Hit, Passage

    p = Passage("p", "d", "城中村改造完成拆迁5500户。", 0, 16)
    sure = Answer("q", "城中村改造完成拆迁5500户。[1]", "5500户", True, [Citation(1, Hit(p, 1.0), p.text)], [],
                  confidence=0.93)
    unsure = Answer("q", sure.answer, "5500户", True, sure.citations, [], confidence=0.31)
    refused = Answer("q", NOT_FOUND, None, False, [], [Hit(p, 1.0)], confidence=0.1,
                     closest=Citation(1, Hit(p, 1.0), "城中村改造完成拆迁<5500>户。"))
    assert "0.93" in answer_message(sure.answer, "zh", sure.short_answer, None, sure)
    assert "qa-low" not in answer_message(sure.answer, "zh", None, None, sure)
    low = answer_message(unsure.answer, "en", None, None, unsure)
    assert "qa-low" in low and "Low confidence" in low
    shown = answer_message(NOT_FOUND, "zh", None, None, refused)
    assert "最接近的句子" in shown and "&lt;5500&gt;" in shown and "<5500>" not in shown


def test_markdown_marks_are_structure_not_text_shown():
    quote = "**全力以赴打好全域征迁清零大会战。**进一步统一思想。"
    text = f"#### 打好“三大会战”\n{quote}加强协同作战。"
    doc = Document("d", "d.md", text, "报告")
    p = Passage("d-1", "d", text, 0, len(text), "打好“三大会战”")
    result = Answer("q", quote + "[1]", None, True, [Citation(1, Hit(p, 0.9), quote)], [Hit(p, 0.9)])
    panel = sources_html(result, {"d": doc})
    assert "**" not in panel and "####" not in panel
    assert "<mark>全力以赴打好全域征迁清零大会战。进一步统一思想。</mark>" in panel
    bubble = answer_message(result.answer, "zh", None, None, result)
    assert "*" not in bubble and "全力以赴打好全域征迁清零大会战。进一步统一思想。" in bubble


def test_the_title_is_not_repeated_in_the_section_path():
    result, docs = make_answer(title="一、城中村改造")
    html = sources_html(result, docs)
    meta = html.split('class="qa-src-meta">')[1].split("</div>")[0]
    assert meta == "2019-01-10 · 张伟"  # the section path without the title shown just above it
    from qa.render import section_path
    assert section_path("报告 > 一、概况 > （一）经济", "报告") == "一、概况 > （一）经济"


@pytest.mark.parametrize("source", ["/srv/qa/data/corpus/gov.txt", "docs/gov.txt", "gov.txt", r"C:\reports\gov.txt"])
def test_sources_name_the_file_not_the_server_folder(source):
    result, docs = make_answer()
    docs["gov"].source = source
    html = sources_html(result, docs)
    assert '<div class="qa-src-file">gov.txt</div>' in html and "corpus" not in html and "docs/" not in html


def test_english_answer_has_english_punctuation_and_chinese_has_chinese():
    result, _ = make_answer()
    refused = Answer("q", NOT_FOUND, None, False, [], result.hits, confidence=0.04, closest=result.citations[0],
                     refusal="confidence 0.04 below the threshold")
    for answer in (result, refused):
        english = answer_message(answer.answer, "en", answer.short_answer, "2019年计划拆迁多少户？", answer)
        chinese = answer_message(answer.answer, "zh", answer.short_answer, "2019年计划拆迁多少户？", answer)
        outside_quotes = english.replace("2019年计划拆迁3000户。", "").replace("2019年计划拆迁多少户？", "")
        assert not set(outside_quotes) & set("：（）"), english
        assert "Searched for: " in english and "检索的问题：" in chinese
    assert "Confidence (" not in english and "(Confidence 0.04): " in english and "（置信度 0.04）：" in chinese


def test_refusal_reason_lists_words_with_the_languages_comma():
    from qa.render import refusal_reason

    assert refusal_reason("nothing about mars、base", "en") == "no passage mentions mars, base"
    assert refusal_reason("nothing about 火星、基地", "zh") == "资料中没有提到“火星、基地”"
