import pytest

from qa.cleaning import LONG_PARAGRAPH, PLAIN_HEADING_LEVEL, LINE_ENDS_SENTENCE, clean, wrap_width, clean_pages, heading_level, heading_text, strip_pinyin

# A line of running text longer than a heading (> 40 characters) with commas, broken before its end.
BROKEN = "今年以来，我们坚持稳中求进工作总基调，统筹推进疫情防控和经济社会发展，全区经济运行总体"


@pytest.mark.parametrize("text, expected", [
    ("區(qū)委", "區委"),
    ("拱墅区（qū）委", "拱墅区委"),
    ("重(zhòng)要和长(cháng)期", "重要和长期"),
    ("地区生产总值(GDP)增长", "地区生产总值(GDP)增长"),  # upper case: not pinyin
    ("的(de)", "的(de)"),  # no tone mark
    ("abc(qū)", "abc(qū)"),  # not after a Han character
    ("区 (qū)", "区 (qū)"),
    ("", ""),
])
def test_strip_pinyin(text, expected):
    assert strip_pinyin(text) == expected


def test_clean_rejoins_a_line_broken_mid_sentence():
    assert len(BROKEN) > 40
    assert clean(f"{BROKEN}\n平稳。") == f"{BROKEN}平稳。"


def test_clean_keeps_short_heading_separate():
    text = "一、上半年主要工作\n今年以来，全区经济运行总体平稳。"
    assert clean(text) == text


def test_clean_keeps_numbered_heading_that_ends_without_punctuation():
    text = f"二、坚持把各项任务落到实处\n{BROKEN}\n平稳。\n三、下一步工作"
    assert clean(text).split("\n") == ["二、坚持把各项任务落到实处", f"{BROKEN}平稳。", "三、下一步工作"]


def test_clean_does_not_join_a_heading_onto_broken_text():
    assert clean(f"{BROKEN}\n（一）加快发展").split("\n") == [BROKEN, "（一）加快发展"]


def test_clean_does_not_join_after_sentence_end():
    text = "全区上下坚持稳中求进工作总基调，统筹推进疫情防控和经济社会发展，成效明显。\n运行总体平稳。"
    assert clean(text) == text


@pytest.mark.parametrize("text, expected", [
    ("总 书记。", "总书记。"),
    ("总 书记强调，要 坚持。", "总书记强调，要坚持。"),
    ("许 明", "许 明"),  # no sentence in the line: a speaker line keeps its space
    ("GDP 增长 8%。", "GDP 增长8%。"),  # spaces next to Latin text stay
    ("全年完成地区生产总值 467.8 亿元,同比增长 8%,2016 年 7 月。", "全年完成地区生产总值467.8亿元,同比增长8%,2016年7月。"),
    ("增长 １２％ 以上，共 3 4 个。", "增长１２％以上，共3 4个。"),  # between digits a space stays
])
def test_clean_han_spaces(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("字", "字"),
    ("\n\n  \n", ""),
    ("  第一段。\n\n\u3000\u3000第二段。  ", "第一段。\n第二段。"),
    ("GDP增长 8% 🎉，很好。", "GDP增长8% 🎉，很好。"),  # an emoji and its spaces stay
    ("零\u200b宽\ufeff字符。", "零宽字符。"),
])
def test_clean_edge_cases(text, expected):
    assert clean(text) == expected


def test_clean_bold_lead_in_runs_on():
    assert clean("**抓好疫情防控。**全区上下\n齐心协力。") == "**抓好疫情防控。**全区上下齐心协力。"


@pytest.mark.parametrize("line, level", [
    ("一、总体要求", 1),
    ("十二、其他", 1),
    ("（一）加快发展", 2),
    ("(一)加快发展", 2),
    ("1.坚持稳中求进", 3),
    ("1、坚持稳中求进", 3),
    ("12. 坚持", 3),
    ("# 标题", 1),
    ("## 小节", 2),
    ("**抓好疫情防控。**全区上下", 7),
    ("上半年工作回顾", PLAIN_HEADING_LEVEL),
    ("这是一个很长的句子，里面有很多很多的内容，超过四十个字符，而且以句号结尾，所以不是标题。", None),
    ("短句也是句子。", None),
    ("1.5亿元的投资已经全部到位，项目顺利开工，各项工作有序推进，群众非常满意啊。", None),
])
def test_heading_level(line, level):
    assert heading_level(line) == level


@pytest.mark.parametrize("line, text", [
    ("## 小节", "小节"),
    ("一、总体要求", "一、总体要求"),
    ("**抓好疫情防控。**全区上下齐心协力", "抓好疫情防控"),
    ("1.坚持稳中求进。全区上下齐心协力，取得了显著成效。", "1.坚持稳中求进"),
    ("（一）" + "很长的小标题" * 10 + "，后半句", ("（一）" + "很长的小标题" * 10)[:40]),
])
def test_heading_text(line, text):
    assert heading_text(line) == text


# clean_pages: the same cleaning over a file's pages, and where each page starts in the result

def test_clean_pages_offsets_point_at_each_page_first_text():
    pages = ["一、第一部分\n全区经济稳步增长。", "  \n第二页的第一句。\n第二句。", "第三页。"]
    text, starts = clean_pages(pages)
    assert text == clean("\n".join(pages))
    assert [text[s:s + 4] for s in starts] == ["一、第一", "第二页的", "第三页。"]


def test_clean_pages_a_sentence_broken_across_pages_starts_the_page_mid_paragraph():
    text, starts = clean_pages(["标题\n" + BROKEN, "平稳。后面还有。"])
    assert text == f"标题\n{BROKEN}平稳。后面还有。"
    assert text[starts[1]:].startswith("平稳。")


def test_clean_pages_continues_flag_joins_what_cleaning_alone_would_not():
    short = "新建安置房一百万平方"  # a short line: cleaning alone would take it for a heading
    assert clean_pages(["正文。\n" + short, "米。"])[0] == f"正文。\n{short}\n米。"
    text, starts = clean_pages(["正文。\n" + short, "米。"], [False, True])
    assert text == f"正文。\n{short}米。"
    assert text[starts[1]:] == "米。"


def test_clean_pages_offsets_survive_dropped_spaces_and_pinyin():
    text, starts = clean_pages(["总 书记 指出，要 坚持 发展。区(qū)委", "全 面 推进 改革。"])
    assert text == "总书记指出，要坚持发展。区委\n全面推进改革。"
    assert text[starts[1]:] == "全面推进改革。"


@pytest.mark.parametrize("pages, expected", [
    ([""], [0]),
    (["甲。", "", "乙。"], [0, 3, 3]),  # an empty page starts where the next one does
    (["甲。", "", ""], [0, 2, 2]),  # trailing empty pages start at the end
    (["", "甲。"], [0, 0]),
])
def test_clean_pages_empty_pages(pages, expected):
    assert clean_pages(pages)[1] == expected


# A report dumped on one line (its line breaks lost in scraping): over LONG_PARAGRAPH characters,
# it is cut before each numbered heading that follows a sentence end (its closing quote too) or a
# lead-in's colon, and before the salutation that opens the speech; a heading ends at a space the
# dump kept where its line ended (a no-break space too), and runs on into its text where none is left.
REVIEW = "全省生产总值增长5.8%，我们坚持稳中求进，推动经济持续回升向好。"
DUMP = ("2025年某省政府工作报告 各位代表：现在，我代表省人民政府，向大会报告政府工作。"
        + "一、2024年工作回顾过去一年，" + REVIEW * 40 + "“我们做到了！”（一）科学调度、精准施策" + REVIEW * 30
        + "主要工作是：（二）坚持创新，推动产业升级\xa0" + REVIEW * 3
        + "二、2025年目标任务 今年全省生产总值增长5%左右。 1.坚持创新增长2.5%以上。")


def test_a_one_line_dump_is_cut_before_its_inline_headings():
    lines = clean(DUMP).split("\n")
    assert len(DUMP) > LONG_PARAGRAPH
    assert [line[:6] for line in lines] == ["2025年某", "各位代表：现", "一、2024", "（一）科学调", "（二）坚持创",
                                            REVIEW[:6], "二、2025", "今年全省生产", "1.坚持创新"]
    assert lines[4] == "（二）坚持创新，推动产业升级" and lines[6] == "二、2025年目标任务"
    assert [heading_level(line) for line in lines[2:]] == [1, 2, 2, None, 1, None, 3]
    assert "".join(lines) == DUMP.replace(" ", "").replace("\xa0", "")  # nothing lost but spaces


def test_a_paragraph_of_report_length_keeps_its_inline_numbers():
    text = "去年完成拆迁。一、二级公路新建120公里。（一）类项目开工5个。" * 10
    assert len(text) < LONG_PARAGRAPH
    assert clean(text) == text


def test_page_starts_stay_on_their_text_when_a_dump_is_cut():
    pages = ["封面。", DUMP[:1500], DUMP[1500:]]
    text, starts = clean_pages(pages)
    assert text.count("\n") == 9
    assert [text[s:s + 8] for s in starts] == ["封面。\n" + DUMP[:4], DUMP[:8], DUMP[1500:1508]]


# Text copied out of a PDF: every line cut at the page's width, wherever that falls.
PARAGRAPHS = ["一、2024年工作回顾",
              "".join(f"过去一年，全省第{i}类生产总值增长{i}.8%，出台落实“两重”“两新”政策配套举措，争取特别国债支持项目{i}36个。"
                      for i in range(8)),
              "（一）科学调度、精准施策",
              "".join(f"大规模设备更新带动设备工器具购置投资增长{i}4.6%，消费品以旧换新带动销售{i}50.6亿元。" for i in range(10))]


def wrap(paragraphs: list[str], width: int) -> str:
    return "\n".join(p[i:i + width] for p in paragraphs for i in range(0, len(p), width))


@pytest.mark.parametrize("width", [20, 33, 38])
def test_text_cut_at_a_page_width_gets_its_paragraphs_back(width):
    text = wrap(PARAGRAPHS, width)
    assert wrap_width(text.split("\n")) == width
    lines = clean(text).split("\n")
    assert "".join(lines) == "".join(PARAGRAPHS)  # nothing lost
    headings = [PARAGRAPHS[0], PARAGRAPHS[2]]
    assert [line for line in lines if line in headings] == headings  # the headings stay headings
    assert all(LINE_ENDS_SENTENCE.search(line) for line in lines if line not in headings)  # cut only at a sentence end


def test_one_paragraph_a_line_has_no_wrap_width():
    lines = [f"第{i}段：全区经济稳步增长{'，新建口袋公园' * (i % 7)}。" for i in range(30)]
    assert wrap_width(lines) is None
    assert clean("\n".join(["二、下一步工作"] + lines)).split("\n")[0] == "二、下一步工作"
