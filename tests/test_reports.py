import json

import pytest

from qa.cleaning import clean, clean_pages
from qa.reports import documents_from, load_catalog, split_reports

COMPILATION = """拱墅区报告汇编
坚定不移推进城市国际化 为建设美丽拱墅而努力奋斗
——在中共杭州市拱墅区委七届十次全体（扩大）会议上的报告
(2016年7月28日)
许 明
同志们：今年以来，全区上下坚持稳中求进。城中村改造完成拆迁和整治5500户。
一、上半年主要工作
我们做了很多工作。
政府工作报告
——在杭州市拱墅区第七届人民代表大会第一次会议上
（2017年1月5日）
章燕
各位代表：过去一年，全区经济稳步增长。
2016年12月28日，中国共产党杭州市拱墅区第七次代表大会隆重开幕
会议听取了报告。"""


def test_split_reports_finds_two_heads():
    reports = split_reports(clean(COMPILATION))
    assert len(reports) == 2
    (body1, head1), (body2, head2) = reports
    assert head1.title == "坚定不移推进城市国际化 为建设美丽拱墅而努力奋斗"
    assert head1.date == "2016-07-28"
    assert head1.meeting == "中共杭州市拱墅区委七届十次全体（扩大）会议"
    assert head1.speaker == "许明"
    assert head2.title == "政府工作报告"
    assert head2.date == "2017-01-05"
    assert head2.meeting == "杭州市拱墅区第七届人民代表大会第一次会议"
    assert head2.speaker == "章燕"
    # the front page stays with the first report; the second starts at its title line
    assert body1.startswith("拱墅区报告汇编\n")
    assert body2.startswith("政府工作报告\n")
    assert "城中村改造" in body1 and "城中村改造" not in body2


def test_split_reports_bodies_cover_the_whole_text():
    text = clean(COMPILATION)
    assert "\n".join(body for body, _ in split_reports(text)) == text


def test_photo_caption_date_is_not_a_boundary():
    reports = split_reports(clean(COMPILATION))
    assert "2016年12月28日，中国共产党杭州市拱墅区第七次代表大会隆重开幕" in reports[-1][0]
    assert len(reports) == 2


def test_text_without_heads_is_one_report():
    text = "一、总体要求\n今年以来，全区经济稳步增长。\n2016年12月28日，代表大会隆重开幕。"
    reports = split_reports(text)
    assert len(reports) == 1
    body, head = reports[0]
    assert body == text
    assert head.title == "一、总体要求"
    assert (head.date, head.meeting, head.speaker) == (None, None, None)


def test_head_without_meeting_line():
    text = "政府工作报告\n(2018年1月9日)\n各位代表：过去一年成绩显著。"
    [(body, head)] = split_reports(text)
    assert head.title == "政府工作报告"
    assert head.date == "2018-01-09"
    assert head.meeting is None
    assert head.speaker is None  # a long first line of the body is no speaker


def test_documents_from_compilation_ids_and_catalog():
    catalog = {("汇编.txt", 2): {"title": "2017年政府工作报告", "date": "2017-01", "kind": "政府工作报告",
                                "unknown": "ignored", "speaker": ""}}
    docs = documents_from("data/corpus/汇编.txt", clean(COMPILATION), "hash", catalog)
    assert [d.doc_id for d in docs] == ["汇编#1", "汇编#2"]
    assert [d.part for d in docs] == [1, 2]
    assert docs[0].title == "坚定不移推进城市国际化 为建设美丽拱墅而努力奋斗"
    assert docs[0].date == "2016-07-28" and docs[0].year == 2016
    assert docs[1].title == "2017年政府工作报告"
    assert docs[1].date == "2017-01" and docs[1].year == 2017
    assert docs[1].kind == "政府工作报告"
    assert docs[1].speaker == "章燕"  # an empty catalog value does not erase what was detected
    assert not hasattr(docs[1], "unknown")
    assert all(d.source == "data/corpus/汇编.txt" and d.content_hash == "hash" for d in docs)


def test_documents_from_single_report_uses_stem():
    docs = documents_from("some/dir/single.txt", "今年以来，全区经济稳步增长。", "h", {})
    assert [d.doc_id for d in docs] == ["single"]
    assert docs[0].title == "single"  # a sentence is no title: the file name stands in, and says so
    assert docs[0].provenance["title"]["source"] == "file name"
    assert docs[0].date is None and docs[0].year is None


def test_documents_from_catalog_overrides_single_report():
    catalog = {("single.txt", 1): {"title": "上半年工作报告", "date": "2020-07-20"}}
    [doc] = documents_from("single.txt", "一、总体要求\n正文。", "h", catalog)
    assert (doc.title, doc.date, doc.year) == ("上半年工作报告", "2020-07-20", 2020)


def test_load_catalog(tmp_path):
    path = tmp_path / "catalog.json"
    assert load_catalog(path) == {}
    path.write_text(json.dumps({"documents": [{"file": "a.txt", "title": "甲"},
                                              {"file": "b.txt", "part": 2, "title": "乙"}]}), encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog[("a.txt", 1)]["title"] == "甲"
    assert catalog[("b.txt", 2)]["title"] == "乙"


@pytest.mark.parametrize("content", ["not json", '{"docs": []}', '{"documents": [{"title": "no file"}]}'])
def test_load_catalog_invalid(tmp_path, content):
    path = tmp_path / "catalog.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="not a valid catalog"):
        load_catalog(path)


def test_documents_from_pages_of_a_compilation_keep_file_page_numbers():
    paras = clean(COMPILATION).split("\n")
    cut = paras.index("政府工作报告")
    # four pages: the first report on pages 1-2, the second starts on page 3, page 4 holds its end
    pages = ["\n".join(paras[:3]), "\n".join(paras[3:cut]), "\n".join(paras[cut:-1]), paras[-1]]
    text, starts = clean_pages(pages)
    first, second = documents_from("汇编.pdf", text, "h", {}, starts)
    assert (first.first_page, second.first_page) == (1, 3)
    assert first.page_at(0) == 1 and first.page_at(first.text.index("同志们")) == 2
    assert first.page_at(len(first.text) - 1) == 2
    assert second.page_at(0) == 3
    assert second.page_at(second.text.index("会议听取了报告")) == 4


def test_a_page_starting_exactly_where_a_report_starts():
    pages = ["上半年工作报告\n(2016年7月28日)\n同志们：全区上下坚持稳中求进。",
             "政府工作报告\n（2017年1月5日）\n各位代表：全区经济稳步增长。"]
    text, starts = clean_pages(pages)
    docs = documents_from("f.pdf", text, "h", {}, starts)
    assert [d.page_at(0) for d in docs] == [1, 2]


def test_documents_without_pages_have_no_page():
    [doc] = documents_from("a.txt", "正文。", "h", {})
    assert doc.pages == [] and doc.page_at(0) is None
