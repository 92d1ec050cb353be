"""Claims: how an answer is cut, and what makes a claim verified or not."""

import pytest

from qa.claims import Source, best_sentence, check_answer, split_claims

SOURCES = {
    1: Source(1, "《2019年政府工作报告》｜2019年1月10日｜杭州市拱墅区｜张伟",
              "2019年计划拆迁3000户，新建安置房50万平方米。全区生产总值增长8.7%，就业人数4,000人。\n"
              "张伟指出，要加快推进地铁5号线和运河公园建设。"),
    2: Source(2, "《2020年政府工作报告》", "2020年计划拆迁5000户。"),
}


@pytest.mark.parametrize("answer, want", [
    ("", []),
    ("。", []),
    ("甲[1]。", [("甲", [1])]),
    ("甲[1]，乙[2]。丙。", [("甲", [1]), ("乙", [2]), ("丙", [])]),
    ("甲。乙[1][2]", [("甲", []), ("乙", [1, 2])]),
    ("甲【1】乙[1, 2]丙［2］", [("甲", [1]), ("乙", [1, 2]), ("丙", [2])]),
    ("甲[1][1]", [("甲", [1])]),
    ("根据资料，2019年计划拆迁3000户[1]。", [("根据资料，2019年计划拆迁3000户", [1])]),
])
def test_split(answer, want):
    assert [(c.text, c.citations) for c in split_claims(answer)] == want


@pytest.mark.parametrize("claim", [
    "2019年计划拆迁三千户[1]",  # Chinese numerals
    "2019年計劃拆遷3000戶[1]",  # traditional
    "新建安置房500000平方米[1]",  # 50万 by value
    "就业人数4000人[1]",  # 4,000
    "就业人数４０００人[1]",  # full width
    "生产总值增长8.7%[1]",
    "张伟要求加快地铁5号线建设[1]",
    "该报告于2019年1月10日作出[1]",  # the date in the head
    "拱墅区2019年计划拆迁3000户[1]",  # the place in the head
    "2020年计划拆迁5000户[1][2]",  # supported by one of two cited passages
])
def test_claims_the_passage_supports_are_verified(claim):
    [c] = check_answer(claim, SOURCES)
    assert c.verified, c.reason


@pytest.mark.parametrize("claim, why", [
    ("2019年计划拆迁3500户[1]", "3500户"),
    ("生产总值增长8.5%[1]", "8.5%"),
    ("2021年计划拆迁3000户[1]", "2021年"),
    ("2019年计划拆迁3000户[2]", "3000户"),  # true, but not in the passage it cites
    ("李娜指出要加快地铁建设[1]", "李娜"),
    ("宁波市计划拆迁3000户[1]", "宁波市"),
    ("该报告于2019年2月作出[1]", "2019年2月"),
    ("2019年计划拆迁3000户[3]", "[3]"),
    ("2019年计划拆迁3000户", "no citation"),
])
def test_claims_the_passage_does_not_support_are_flagged(claim, why):
    [c] = check_answer(claim, SOURCES)
    assert not c.verified and why in c.reason


def test_best_sentence_is_the_one_with_the_claim_s_numbers():
    passage = SOURCES[1].text
    assert best_sentence("就业人数4000人", passage) == "全区生产总值增长8.7%，就业人数4,000人。"
    assert best_sentence("张伟说要建设运河公园", passage).startswith("张伟指出")
    assert best_sentence("无关", "") == ""


@pytest.mark.parametrize("claim, why", [
    ("围绕5大场馆[1]", "5大"),  # a bare number is compared as written, with what follows it
    ("实施“7+2”工程[1]", "7+"),
    ("比例为1:18.25:80.75[1]", "1:18.25:80.75"),
    ("第三批项目开工[1]", "第3批"),
])
def test_bare_numbers_ratios_and_ordinals_are_checked_as_written(claim, why):
    sources = {1: Source(1, "", "围绕4大场馆、5项赛事。实施“6+2”工程，比例为1:18.25:81.75。第二批43个项目开工。")}
    [c] = check_answer(claim, sources)
    assert not c.verified and why in c.reason
    [ok] = check_answer("第二批43个项目开工，实施“6+2”工程[1]", sources)
    assert ok.verified, ok.reason


def test_the_reason_is_also_given_in_parts_for_the_app_to_word():
    from qa import render
    from qa.types import Answer

    claims = check_answer("2019年计划拆迁3500户[1]。2019年计划拆迁3000户[3]。2019年计划拆迁3000户。", SOURCES)
    assert [c.why for c in claims] == [("absent", "3500户", "[1]"), ("not_given", "[3]", "1–2"), ("no_citation", "", "")]
    answer = Answer("q", "2019年计划拆迁3500户[1]。2019年计划拆迁3000户[3]。2019年计划拆迁3000户。", None, True, [], [],
                    claims=claims)
    zh = render.answer_message(answer.answer, "zh", result=answer)
    assert zh.count('class="qa-unverified"') == 3 and "已核实 0/3 条陈述" in zh
    assert "所引段落 \\[1\\] 中没有 3500户" in zh and "没有标注出处" in zh
    assert "3500户 not in \\[1\\]" in render.answer_message(answer.answer, "en", result=answer)
