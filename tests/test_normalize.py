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


def test_for_search_all_folds_each_text_as_it_would_alone():
    import random

    from qa.normalize import for_search_all

    # words whose conversion depends on their neighbours (乾隆 stays, 乾 alone is 干), width and
    # compatibility forms, a final sigma, combining marks and Hangul jamo at the edges
    tricky = ["乾", "隆", "乾隆", "著名", "著", "頭髮", "髮", "後面", "後", "Ｆｕｌｌ", "㎡", "ΑΣ", "Σ", "σ", "İ", "e",
              "\u0301", "\u1100", "\u1161", "二〇二一年", "增長", "gdp", " ", "", "，", "區"]
    texts = ["乾", "隆", "ΑΣ", "\u0301x", "\u1100", "\u1161", "頭", "髮"]
    assert for_search_all(texts) == [for_search(t) for t in texts]
    assert for_search_all(["乾", "隆"]) == ["干", "隆"] and for_search("乾隆") == "乾隆"
    rng = random.Random(0)
    for _ in range(300):
        texts = ["".join(rng.choice(tricky) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 8))]
        assert for_search_all(texts) == [for_search(t) for t in texts]
    assert for_search_all(["a\nb", "乾"]) == ["a\nb", "干"]  # a text with a line break: one by one


@pytest.mark.parametrize("question, expected", [
    ("广西2025年CPI涨幅目标是多少？", "广西2025年居民消费价格涨幅目标是多少？"),
    ("人均GDP突破多少万元？", "人均生产总值突破多少万元？"),
    ("ｇｄｐ和Cpi分别增长多少？", "生产总值和居民消费价格分别增长多少？"),  # full-width, any case
    ("PPI降了多少？", "工业生产者出厂价格降了多少？"),
    ("R&D投入强度是多少？", "研发投入强度是多少？"),
    ("Ｒ＆Ｄ经费增长多少？", "研发经费增长多少？"),
    ("1988年GNP增长目标是多少？", "1988年国民生产总值增长目标是多少？"),
    ("GDPR对企业有什么要求？", "GDPR对企业有什么要求？"),  # a longer Latin word is another word
    ("What was GDP growth?", "What was GDP growth?"),  # not a Chinese question
    ("全区经济稳步增长", "全区经济稳步增长"),
])
def test_spell_out_writes_abbreviations_as_reports_do(question, expected):
    from qa.normalize import spell_out

    assert spell_out(question) == expected
