"""Follow-up questions are rewritten from the conversation only when they refer back."""

import pytest

from qa.followup import Turn, refers_back, rewrite

PREV = [Turn("2019年计划拆迁多少户？", speaker="张伟", title="2019年政府工作报告")]


@pytest.mark.parametrize("question, expected", [
    ("那2020年呢？", "2020年计划拆迁多少户？"),
    ("那么2021年呢?", "2021年计划拆迁多少户？"),
    ("2020年呢？", "2020年计划拆迁多少户？"),
    ("那上半年呢？", "2019年上半年计划拆迁多少户？"),
    ("他还提到了哪些项目？", "张伟还提到了哪些项目？"),
    ("她说了什么？", "张伟说了什么？"),
    ("该报告提到了哪些项目？", "《2019年政府工作报告》提到了哪些项目？"),
    ("安置房呢？", "2019年安置房？"),
    ("这些项目投资多少？", "2019年计划拆迁多少户，这些项目投资多少？"),
])
def test_follow_ups_are_rewritten(question, expected):
    assert rewrite(question, PREV) == expected


@pytest.mark.parametrize("question", [
    "2017年计划拆迁多少户？", "城中村改造完成了多少户？", "其他地区的经济增长怎么样？",
    "应该如何推进五水共治？", "區委常委會多久召開一次集中點評會？", "", "户",
    "What did the report say? 🚇",
])
def test_standalone_questions_are_left_alone(question):
    assert rewrite(question, PREV) is None


def test_no_history_no_rewrite():
    assert rewrite("那2020年呢？", []) is None
    assert refers_back("那2020年呢？")


def test_half_year_replaces_half_year_and_keeps_the_year():
    prev = [Turn("2016年上半年拱墅区地区生产总值是多少？")]
    assert rewrite("那全年呢？", prev) == "2016年全年拱墅区地区生产总值是多少？"


def test_a_new_meeting_replaces_the_old_one():
    prev = [Turn("第七次党代会提出了什么目标？")]
    assert rewrite("那第八次党代会呢？", prev) == "第八次党代会提出了什么目标？"


def test_pronoun_without_a_known_speaker_keeps_the_previous_topic():
    prev = [Turn("2019年计划拆迁多少户？")]
    assert rewrite("他还说了什么？", prev) == "2019年计划拆迁多少户，他还说了什么？"


def test_the_latest_turn_is_the_one_referred_to():
    history = PREV + [Turn("2020年计划拆迁多少户？", speaker="李娜")]
    assert rewrite("他还提到了哪些项目？", history) == "李娜还提到了哪些项目？"


@pytest.mark.parametrize("previous, question, expected", [
    ("2016年上半年拱墅区地区生产总值是多少？", "那增长了多少？", "2016年上半年拱墅区地区生产总值增长了多少？"),
    ("2017年计划拆迁多少户？", "为什么呢？", "为什么2017年计划拆迁？"),
    ("城中村改造有哪些项目？", "那完成了几个？", "城中村改造完成了几个？"),
])
def test_a_new_predicate_keeps_the_previous_subject(previous, question, expected):
    assert rewrite(question, [Turn(previous)]) == expected


@pytest.mark.parametrize("previous, question, expected", [
    ("拱墅区2020年上半年地区生产总值增长了多少？", "那固定资产投资呢？", "拱墅区2020年上半年固定资产投资增长了多少？"),
    ("2016年上半年拱墅区地区生产总值是多少？", "一般公共预算收入呢？", "2016年上半年拱墅区一般公共预算收入是多少？"),
    ("拱墅区地区生产总值增长了多少？", "那固定资产投资呢？", "拱墅区固定资产投资增长了多少？"),
])
def test_a_new_topic_keeps_the_place_time_and_question(previous, question, expected):
    assert rewrite(question, [Turn(previous)]) == expected
