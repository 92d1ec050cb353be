import pytest

from qa.normalize import for_search, to_simplified


@pytest.mark.parametrize("text, expected", [
    ("拆遷", "拆迁"),
    ("全區經濟穩步增長", "全区经济稳步增长"),
    ("４０００ＡＢ", "4000ab"),
    ("ＧＤＰ增長８％", "gdp增长8%"),
    ("城中村改造（一）", "城中村改造(一)"),
    ("", ""),
    ("字", "字"),
    ("Mixed 中英 🎉", "mixed 中英 🎉"),
])
def test_for_search(text, expected):
    assert for_search(text) == expected


@pytest.mark.parametrize("text", ["城中村改造完成拆迁和整治5500户。", "GDP增长 8% 🎉", "", "运河财富小镇"])
def test_to_simplified_leaves_simplified_text_unchanged(text):
    assert to_simplified(text) == text


def test_to_simplified_keeps_width_and_case():
    # only the search form folds width and case; the display form keeps them
    assert to_simplified("ＧＤＰ增長") == "ＧＤＰ增长"
