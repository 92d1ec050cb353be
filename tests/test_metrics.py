import math

import pytest

from qa import metrics as m


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("户", "户"),
    ("4,000户", "4000户"),
    ("４０００户", "4000户"),  # full-width digits
    ("4000戶", "4000户"),  # traditional
    ("8.7%", "8.7"),  # a decimal point survives, the percent sign does not
    ("“城北”，运河！", "城北运河"),
    ("GDP 增长 8.5%", "gdp增长8.5"),
    ("1,2", "12"),  # not a thousands separator: punctuation, dropped
])
def test_normalize_answer(text, expected):
    assert m.normalize_answer(text) == expected


def test_tokens_keep_latin_and_digit_runs_whole():
    assert m.answer_tokens("地铁5号线 GDP 228.12亿元") == ["地", "铁", "5", "号", "线", "gdp", "228.12", "亿", "元"]
    assert m.answer_tokens("") == []


@pytest.mark.parametrize("prediction, golds, em", [
    ("4000户", ["4,000户"], 1.0),
    ("４０００戶", ["4000户"], 1.0),
    ("拆遷", ["拆迁"], 1.0),
    ("4000户。", ["4000户"], 1.0),
    ("4000", ["4000户"], 0.0),
    ("", ["4000户"], 0.0),
    ("", [""], 0.0),  # an empty prediction is never a match
    ("87", ["8.7%"], 0.0),
])
def test_exact_match(prediction, golds, em):
    assert m.exact_match(prediction, golds) == em


def test_char_f1_is_over_the_longest_common_substring_and_max_over_golds():
    # pred 拆迁4000户 -> 拆 迁 4000 户 (4 tokens); gold 4000户 (2 tokens); common 2
    assert m.char_f1("拆迁4000户", ["4000户"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert m.char_f1("拆迁4000户", ["无关", "拆迁4,000戶"]) == 1.0
    assert m.char_f1("城北", ["运河"]) == 0.0
    assert m.char_f1("", ["运河"]) == 0.0
    assert m.char_f1("运河", []) == 0.0
    # digits are one token: 4001 shares nothing with 4000
    assert m.char_f1("4001户", ["4000户"]) == pytest.approx(0.5)


@pytest.mark.parametrize("text, golds, expected", [
    ("2017年计划拆迁4,000户。[1]", ["4000户"], True),
    ("2017年計劃拆遷４０００戶", ["4000户"], True),
    ("增长8.7%", ["8.7%"], True),
    ("增长87%", ["8.7%"], False),
    ("资料中未找到", ["4000户"], False),
    ("任何文字", [""], False),  # an empty gold answer does not match everything
])
def test_contains_answer(text, golds, expected):
    assert m.contains_answer(text, golds) is expected


def test_retrieval_metrics_on_a_hand_made_ranking():
    ranked = [False, True, False, True]  # relevant at ranks 2 and 4; 3 relevant in the index
    assert m.hit_at(ranked, 1) == 0.0 and m.hit_at(ranked, 2) == 1.0
    assert m.recall_at(ranked, 2, 3) == pytest.approx(1 / 3)
    assert m.recall_at(ranked, 10, 3) == pytest.approx(2 / 3)
    assert m.reciprocal_rank(ranked) == 0.5
    assert m.reciprocal_rank(ranked, k=1) == 0.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m.ndcg_at(ranked, 10, 3) == pytest.approx(dcg / ideal)


def test_retrieval_metrics_edge_cases():
    assert m.ndcg_at([True], 10, 1) == 1.0
    assert m.ndcg_at([], 10, 0) == 0.0
    assert m.recall_at([], 5, 2) == 0.0
    assert m.recall_at([False, True], 5, 0) == 1.0  # evidence split over passages: found counts as recalled
    assert m.reciprocal_rank([]) == 0.0


def test_numbers_in_answers():
    assert m.numbers_in("2017年计划拆迁4,000户，增长8.7%。[1][2]") == ["2017", "4000", "8.7"]
    assert m.numbers_in("２０１６年７月２８日") == ["2016", "7", "28"]
    assert m.numbers_in("") == []


def test_unsupported_numbers():
    cited = ["2017年计划拆迁4000户", "增长8.7%"]
    assert m.unsupported_numbers("2017年拆迁4,000户，增长8.7%[1]", cited) == []
    assert m.unsupported_numbers("2018年拆迁4000户", cited) == ["2018"]
    assert m.unsupported_numbers("增长87%", cited) == ["87"]
    assert m.unsupported_numbers("拆迁4000户", []) == ["4000"]


def test_aggregates():
    assert m.precision([True, False, True, True]) == 0.75
    assert m.precision([]) is None
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([]) is None
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([5], 95) == 5
    assert m.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert m.percentile([], 50) is None
