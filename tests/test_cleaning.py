import pytest

from qa.cleaning import PLAIN_HEADING_LEVEL, clean, heading_level, heading_text, strip_pinyin

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
    ("GDP 增长 8%。", "GDP 增长 8%。"),  # spaces next to Latin text stay
])
def test_clean_han_spaces(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("字", "字"),
    ("\n\n  \n", ""),
    ("  第一段。\n\n\u3000\u3000第二段。  ", "第一段。\n第二段。"),
    ("GDP增长 8% 🎉，很好。", "GDP增长 8% 🎉，很好。"),
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
