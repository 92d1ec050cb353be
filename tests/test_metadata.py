"""Report metadata found in the text: one small sample per layout, then the real reports when present."""

import importlib.util
from pathlib import Path

import pytest

from qa.cleaning import clean
from qa.metadata import detect
from qa.places import place_in, place_key, place_names
from qa.reports import documents_from, split_reports

BODY = "各位代表：\n现在，我代表省人民政府，向大会报告工作，请予审议。\n一、2025年工作回顾\n过去一年，全省经济增长5%。"


def meta_of(text, name="report.txt"):
    return detect(clean(text), name)


def test_title_meeting_line_with_date_and_role_line():
    m = meta_of("政府工作报告\n——2026年1月26日在广东省第十四届人民代表大会第五次会议上\n广东省省长 孟凡利\n" + BODY)
    assert (m.title, m.date, m.place, m.speaker, m.role) == ("政府工作报告", "2026-01-26", "广东省", "孟凡利", "广东省省长")
    assert m.meeting == "广东省第十四届人民代表大会第五次会议" and m.kind == "政府工作报告"
    assert m.provenance["date"]["source"] == "meeting line"
    assert m.provenance["speaker"]["source"] == "byline"


def test_year_and_place_in_the_title_line():
    m = meta_of("2025年广东省政府工作报告\n来源：南方日报\n" + BODY)
    assert (m.title, m.date, m.place) == ("2025年广东省政府工作报告", "2025", "广东省")
    assert m.provenance["date"]["source"] == "title"


def test_everything_in_one_sentence():
    m = meta_of("2025年北京市政府工作报告\n2025年1月14日在北京市第十六届人民代表大会第三次会议上北京市市长 殷勇同志作政府工作报告。\n"
                + BODY)
    assert (m.date, m.place, m.speaker, m.role) == ("2025-01-14", "北京市", "殷勇", "北京市市长")
    assert m.meeting == "北京市第十六届人民代表大会第三次会议"


def test_date_line_and_spaced_speaker():
    m = meta_of("着力补短板推进国际化\n——在区委六届十次全体(扩大)会议上的报告\n(2016年7月28日)\n许 明\n同志们：\n下面报告工作。")
    assert (m.title, m.date, m.speaker, m.kind) == ("着力补短板推进国际化", "2016-07-28", "许明", "全会报告")


@pytest.mark.parametrize("date_line, iso", [("（二〇二四年一月二十三日）", "2024-01-23"), ("(1 9 9 8 年3 月5 日)", "1998-03-05"),
                                             ("（２０２４年１２月３１日）", "2024-12-31")])
def test_date_lines_in_chinese_numerals_spaced_or_full_width_digits(date_line, iso):
    m = meta_of(f"政府工作报告\n{date_line}\n各位代表：\n现在报告工作。")
    assert m.date == iso and m.provenance["date"]["source"] == "date line"


@pytest.mark.parametrize("head", [
    "政府工作报告——2024年1月23日在上海市第十六届人民代表大会第二次会议上 上海市市长 龚正",
    "2024年上海市政府工作报告\n（2024年1月23日在上海市第十六届人民代表大会第二次会议上）\n上海市市长　龚正",
    "政府工作报告\n2024-01-29 10:05 来源：解放日报\n字号：大 中 小\n——2024年1月23日在上海市第十六届人民代表大会第二次会议上\n"
    "上海市市长　龚正",
])
def test_head_layouts_of_web_pages(head):
    m = meta_of(f"{head}\n{BODY}")
    assert (m.date, m.place, m.speaker, m.kind) == ("2024-01-23", "上海市", "龚正", "政府工作报告")
    assert m.meeting == "上海市第十六届人民代表大会第二次会议" and "政府工作报告" in m.title


def test_whole_report_on_one_line():
    m = meta_of("政府工作报告——2026年1月26日在广东省第十四届人民代表大会第五次会议上广东省省长 孟凡利各位代表："
                "现在，我代表省人民政府，向大会报告工作，请予审议。一、2025年工作回顾过去一年，我们做了很多工作。")
    assert (m.title, m.date, m.speaker) == ("政府工作报告", "2026-01-26", "孟凡利")


def test_title_split_over_lines_and_zero_width_spaces():
    text = "\u200b\n\n\n政府工作报\n告\n\n\n——2017年3月5日在第十二届全国人民代表大会第五次会议上\n\n国务院总理\n　李克强\n\n" \
           + "\n\n".join(["各位代表：", "现在，我代表国务院，向大会报告政府工作。", "一、2016年工作回顾", "过去一年。"] * 3)
    m = meta_of(text)
    assert (m.title, m.date, m.speaker, m.place) == ("政府工作报告", "2017-03-05", "李克强", "国务院")


def test_traditional_byline_is_speaker_not_title():
    m = meta_of("朱建明 中共杭州市拱墅區委書記\n拱墅把現代化建設推向新階段 努力建成運河沿岸名區\n"
                "朱建明在拱墅區第七次黨代會上作報告\n2016年12月底,拱墅區召開了區第七次黨代會。")
    assert m.title == "拱墅把現代化建設推向新階段 努力建成運河沿岸名區"
    assert (m.speaker, m.place, m.date) == ("朱建明", "杭州市拱墅区", None)


def test_year_inferred_from_the_year_reviewed():
    m = meta_of(BODY)
    assert m.date == "2026" and m.provenance["date"] == {"source": "inferred", "confidence": 0.7}


def test_year_inferred_from_this_years_first_half_named_with_its_year():
    m = meta_of("奋力争先创优\n今年以来，面对疫情，全区上下攻坚克难。2020年上半年，全区实现地区生产总值500亿元。")
    assert m.date == "2020" and m.provenance["date"]["source"] == "inferred"


def test_speaker_line_run_into_the_salutation():
    m = meta_of("2025年上海市政府工作报告\n上海市市长　龚正各位代表：现在，我代表上海市人民政府，向大会报告政府工作。")
    assert (m.speaker, m.role, m.place, m.title) == ("龚正", "上海市市长", "上海市", "2025年上海市政府工作报告")


def test_site_name_above_the_title_is_not_the_title():
    m = meta_of("上海市人民政府\n政府工作报告\n——2024年1月23日在上海市第十六届人民代表大会第二次会议上\n上海市市长　龚正\n" + BODY)
    assert (m.title, m.date, m.speaker) == ("政府工作报告", "2024-01-23", "龚正")


def test_fuller_title_above_a_short_one_is_kept():
    m = meta_of("2025年湖南省政府工作报告\n来源：湖南日报\n政府工作报告\n"
                "2025年1月14日在湖南省第十四届人民代表大会第三次会议上省长毛伟明作政府工作报告。\n" + BODY)
    assert (m.title, m.date, m.speaker, m.role) == ("2025年湖南省政府工作报告", "2025-01-14", "毛伟明", "省长")


def test_page_menu_is_not_the_title():
    m = meta_of("下载 打印 全屏 收藏\n【字号 大 中 小】\n当前位置：首页 > 政务公开\n2025年上海市政府工作报告\n" + BODY)
    assert m.title == "2025年上海市政府工作报告"


@pytest.mark.parametrize("text", ["", "中", "今年以来，全区经济稳步增长。", "各位代表：\n过去一年，我们做了很多工作。"])
def test_no_date_stated_is_unknown(text):
    assert meta_of(text).date is None


def test_file_name_year_has_low_confidence():
    m = meta_of("今年以来，全区经济稳步增长。", "gongshu-2019-midyear.txt")
    assert m.date == "2019" and m.provenance["date"]["source"] == "file name"
    assert m.provenance["date"]["confidence"] < 0.5


@pytest.mark.parametrize("text, place", [("广东省第十四届人民代表大会第三次会议", "广东省"),
                                         ("广西壮族自治区第十四届人民代表大会", "广西壮族自治区"),
                                         ("中国共产党杭州市拱墅区第七次代表大会", "杭州市拱墅区"),
                                         ("第十三届全国人民代表大会第四次会议", "国务院"),
                                         ("中国共产党第二十次全国代表大会", "中共中央"),
                                         ("拱墅区第七届人民代表大会", "拱墅区")])
def test_place_in(text, place):
    assert place_in(text) == place


@pytest.mark.parametrize("place, names, key", [("杭州市拱墅区", {"杭州市拱墅区", "拱墅区", "拱墅"}, "拱墅"),
                                               ("广东省", {"广东省", "广东"}, "广东"),
                                               ("广西壮族自治区", {"广西壮族自治区", "广西"}, "广西"),
                                               ("国务院", {"国务院"}, "国务院"), (None, set(), "")])
def test_place_names_and_key(place, names, key):
    assert place_names(place) == names and place_key(place) == key


def test_compilation_of_reports_opened_by_dated_meeting_lines():
    one = "政府工作报告\n——{d}在广东省第十四届人民代表大会第{n}次会议上\n广东省省长 {s}\n各位代表：\n过去一年，全省经济增长5%。"
    text = clean("\n".join([one.format(d="2025年1月15日", n="三", s="王伟中"),
                            one.format(d="2026年1月26日", n="五", s="孟凡利")]))
    assert len(split_reports(text)) == 2
    docs = documents_from("gd.txt", text, "h", {})
    assert [(d.date, d.speaker, d.part) for d in docs] == [("2025-01-15", "王伟中", 1), ("2026-01-26", "孟凡利", 2)]


@pytest.mark.parametrize("head", [
    "2025年{p}政府工作报告\n——{d}{p}省长 {s}在{p}第十四届人民代表大会第三次会议上的讲话",
    "2025年{p}政府工作报告\n{d}在{p}第十四届人民代表大会第三次会议上{p}省长 {s}同志作政府工作报告。",
])
def test_compilations_of_other_head_layouts(head):
    reports = [head.format(p=p, d=d, s=sp) + "\n各位代表：\n过去一年，全省经济增长5%。"
               for p, d, sp in (("广东省", "2025年1月15日", "王伟中"), ("海南省", "2025年1月14日", "刘小明"))]
    docs = documents_from("all.txt", clean("\n".join(reports)), "h", {})
    assert [(d.place, d.date, d.speaker) for d in docs] == [("广东省", "2025-01-15", "王伟中"),
                                                          ("海南省", "2025-01-14", "刘小明")]


def test_a_single_report_with_a_dated_meeting_line_is_one_document():
    text = clean("2025年广东省政府工作报告\n——2025年1月15日在广东省第十四届人民代表大会第三次会议上\n广东省省长 王伟中\n" + BODY)
    assert len(documents_from("gd.txt", text, "h", {})) == 1


def _eval_module():
    path = Path(__file__).resolve().parents[1] / "scripts" / "eval_metadata.py"
    spec = importlib.util.spec_from_file_location("eval_metadata", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def test_metadata_against_the_truth_of_the_shared_reports():
    if not (SHARED / "reports").is_dir() or not (SHARED / "corpus").is_dir():
        pytest.skip(f"{SHARED} not present")
    results = _eval_module().evaluate(SHARED)

    def share(name):
        right = sum(g[name]["right"] for g in results.values() if name in g)
        return right / sum(g[name]["of"] for g in results.values() if name in g)

    assert share("year") >= 0.95 and share("date") >= 0.95 and share("place") >= 0.95
    assert share("title") >= 0.90 and share("speaker") >= 0.90
    assert sum(g["noisy_passages"] for g in results.values()) == 0
    assert share("split") == 1.0  # the compilation in three reports, every other file in one


@pytest.mark.parametrize("props, title, date", [
    ({"title": "2017年拱墅区政府工作报告"}, "2017年拱墅区政府工作报告", "2017"),
    ({"title": "Microsoft Word - report.doc"}, None, None),
    ({"title": "untitled"}, None, None),
    ({}, None, None),
])
def test_file_properties_are_used_below_the_text(props, title, date):
    m = detect(clean("各位代表：\n今年以来，全区经济稳步增长。"), "r.docx", properties=props)
    assert (m.title, m.date) == (title, date)
    if title:
        assert m.provenance["title"]["source"] == "file properties"
    stated = detect(clean("政府工作报告\n（2018年1月5日）\n各位代表：\n正文。"), "r.docx", properties=props)
    assert (stated.title, stated.date) == ("政府工作报告", "2018-01-05")


def test_a_news_story_names_no_speaker():
    m = meta_of("奋力争先创优 展现头雁风采\n今年以来，面对突如其来的疫情，副市长张三在全市会议上指出，要统筹推进疫情防控和经济社会发展。"
                "各部门纷纷表示，要以更强烈的担当精神推动工作落地见效，确保完成全年目标任务。")
    assert m.speaker is None and m.title == "奋力争先创优 展现头雁风采"


def test_statistical_bulletin_with_a_bare_date_line():
    m = meta_of("2024年广东省国民经济和社会发展统计公报\n广东省统计局\n2025年3月2日\n2024年，全省经济运行稳中有进。")
    assert (m.title, m.date, m.place, m.kind) == ("2024年广东省国民经济和社会发展统计公报", "2025-03-02", "广东省", "统计公报")


def test_a_speech_titled_by_its_meeting_line():
    m = meta_of("在全市经济工作会议上的讲话\n（2024年12月20日）\n市委书记 欧阳晓晖\n同志们：\n这次会议的主要任务是总结工作。")
    assert (m.title, m.date, m.speaker, m.role, m.kind) == (
        "在全市经济工作会议上的讲话", "2024-12-20", "欧阳晓晖", "市委书记", "讲话")


@pytest.mark.parametrize("line, speaker, role", [("自治区主席 艾尔肯·吐尼亚孜", "艾尔肯·吐尼亚孜", "自治区主席"),
                                                 ("广东省高级人民法院院长 张炜", "张炜", "广东省高级人民法院院长"),
                                                 ("省长 许 昆 林", "许昆林", "省长")])
def test_speaker_names_of_other_shapes(line, speaker, role):
    m = meta_of(f"政府工作报告\n——2025年1月13日在新疆维吾尔自治区第十四届人民代表大会第三次会议上\n{line}\n{BODY}")
    assert (m.speaker, m.role) == (speaker, role)


def test_court_report_kind_from_its_title():
    m = meta_of("广东省高级人民法院工作报告\n——2025年1月16日在广东省第十四届人民代表大会第三次会议上\n"
                "广东省高级人民法院院长 张炜\n各位代表：\n现在，我代表省高级人民法院报告工作。")
    assert (m.kind, m.place, m.speaker) == ("法院工作报告", "广东省", "张炜")


@pytest.mark.parametrize("opening, meeting", [
    ("同志们：\n\n现在，我代表中国共产党第十一届中央委员会，向党的第十二次全国代表大会作报告。\n", "中国共产党第十二次全国代表大会"),
    ("同志们：\n\n现在，我代表第十四届中央委员会向大会作报告。\n\n中国共产党第十五次全国代表大会是一次极为重要的大会。\n",
     "中国共产党第十五次全国代表大会"),
    ("各位代表：\n\n我們第一届全國人民代表大會第一次會議，在聽了報告並進行了三天的討論以後，通過了憲法。\n",
     "第一届全国人民代表大会第一次会议"),
    ("各位代表：\n本届政府1998年3月就职。现在，我代表国务院，向第十届全国人民代表大会第一次会议报告过去五年的工作。\n",
     "第十届全国人民代表大会第一次会议"),
    # a meeting named as past is not the one the report was given at
    ("各位代表：\n我代表国务院，向大会报告过去五年的工作。\n第十届全国人民代表大会第一次会议以来的五年，是不平凡的五年。\n", None),
])
def test_meeting_inferred_from_the_opening_of_a_report_without_a_meeting_line(opening, meeting):
    meta = detect(opening + "一、过去五年工作回顾\n" + "经济平稳发展。" * 40)
    assert meta.meeting == meeting
    if meeting:
        assert meta.provenance["meeting"]["source"] == "inferred"


@pytest.mark.parametrize("meeting, names", [
    ("中国共产党第十二次全国代表大会", ["十二大", "党的十二大"]),
    ("中国共产党第二十次全国代表大会", ["二十大", "党的二十大"]),
    ("第十二届全国人民代表大会第五次会议", ["十二届全国人大五次会议", "十二届人大五次会议"]),
    ("广东省第十四届人民代表大会第三次会议", ["广东省十四届人大三次会议", "十四届人大三次会议"]),
    ("中国共产党第十八届中央委员会第三次全体会议", ["十八届三中全会"]),
    ("全市经济工作会议", []),
])
def test_a_meeting_is_also_known_by_its_short_names(meeting, names):
    from qa.metadata import meeting_names

    assert meeting_names(meeting).split() == [meeting, *names]



def test_a_question_naming_a_congress_by_its_short_name_is_answered_from_its_report(tmp_path):
    from qa.config import Settings
    from qa.ingest import ingest
    from qa.pipeline import Assistant

    body = "经济建设取得重大成就，全国工农业总产值年均增长百分之七。" * 3 + "\n\n"
    (tmp_path / "c12.txt").write_text("同志们：\n\n现在，我代表第十一届中央委员会，向党的第十二次全国代表大会作报告。\n\n" + body,
                                      encoding="utf-8")
    (tmp_path / "c15.txt").write_text("同志们：\n\n现在，我代表第十四届中央委员会向大会作报告。\n\n"
                                      "中国共产党第十五次全国代表大会是一次重要的大会。\n\n" + body.replace("七", "九"),
                                      encoding="utf-8")
    settings = Settings.resolve(index_dir=tmp_path / "index")
    ingest([tmp_path / "c12.txt", tmp_path / "c15.txt"], settings)
    answer = Assistant(settings).ask("十五大报告中全国工农业总产值年均增长多少？")
    assert answer.answerable and "百分之九" in answer.answer
    assert answer.citations[0].hit.passage.doc_id == "c15"


def test_a_congress_report_without_a_title_line_is_named_by_its_congress():
    text = ("同志们：\n\n现在，我代表中国共产党第十一届中央委员会，向党的第十二次全国代表大会作报告。\n\n"
            "一、历史性的转变\n" + "经济建设取得重大成就。" * 40)
    meta = detect(text, "national-cpc-1982-party-congress-report-12th.txt")
    assert meta.kind == "党代会报告"
    assert meta.title == "在中国共产党第十二次全国代表大会上的报告"
    assert meta.provenance["title"]["source"] == "inferred"


NO_DATE = ("各位代表：\n现在，我代表国务院，向大会报告过去五年的政府工作，请予审议。\n一、过去五年工作回顾\n"
           "第十一届全国人民代表大会第一次会议以来的五年，是我国发展进程中极不平凡的五年。")


@pytest.mark.parametrize("text, name, year", [
    (NO_DATE, "report.txt", "2013"),  # the term it reviews ended with the 12th NPC's first session
    (NO_DATE.replace("第一次会议以来的五年", "期间"), "gzbg.html", "2013"),
    ("各位代表！\n现在，我代表国务院，向第五届全国人民代表大会作政府工作报告。", "a.txt", "1978"),
    ("各位代表：\n现在，我代表省人民政府向大会报告政府工作。\n第十一届全国人民代表大会第一次会议以来的五年很不平凡。", "a.txt", None),
])
def test_a_national_report_without_a_date_is_dated_by_its_meeting(text, name, year):
    meta = detect(text, name)
    assert meta.date == year
    assert year is None or meta.provenance["date"]["source"] == "meeting"
