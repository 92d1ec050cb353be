"""The choices scripts/train_answerer.py makes from its out-of-fold answers (nothing is trained here)."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.spans import ANSWERABLE_FEATURES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import train_answerer as train  # noqa: E402


def test_folds_keep_a_report_or_a_paragraph_together():
    a = {"id": "rp001", "about": "provincial-anhui-2025-gov-work-report.txt", "question": "…"}
    moved = {"id": "rp001-place", "about": "provincial-anhui-2025-gov-work-report.txt"}
    synthetic = {"id": "syn-1", "about": "/x/provincial-anhui-2025-gov-work-report.txt"}
    assert train.fold_key(a) == train.fold_key(moved) == train.fold_key(synthetic)
    squad = [{"id": "1147-2-1", "type": "squad", "doc": "00000-1147-2.txt"},
             {"id": "1147-2-2", "type": "squad", "doc": "00000-1147-2.txt"}]
    assert train.fold_key(squad[0]) == train.fold_key(squad[1]) != train.fold_key(a)
    assert train.fold_key({"id": "q005", "doc": "data/corpus/a.txt"}) != train.fold_key({"id": "q006", "doc": "data/corpus/a.txt"})


@pytest.mark.parametrize("sentence, number, ends", [
    ("治理沙化土地570万公顷，草原植被盖度提高", "570万公顷", True),
    ("建成超充站1000座。", "1000座", True),
    ("深入开展安全生产专项整治三年行动", "三年", False),
    ("加快打造“三地一区”", "一", False),
])
def test_synthetic_numbers_end_their_clause(sentence, number, ends):
    assert train.ends_clause(sentence, sentence.index(number) + len(number)) is ends


def test_the_threshold_refuses_at_most_five_percent_of_answerable_questions():
    # 100 answerable written questions with probabilities 0.01 … 1.00, 50 unanswerable ones
    p = np.r_[np.linspace(0.01, 1.0, 100), np.linspace(0.0, 0.5, 50)]
    y = np.r_[np.ones(100), np.zeros(50)]
    asked = np.r_[np.ones(100, dtype=bool), np.zeros(50, dtype=bool)]
    domains = np.array(["reports"] * 150)
    t = train.choose_threshold(p, y, domains, asked)
    assert (p[:100] < t).mean() <= train.MAX_WRONGLY_REFUSED
    assert (p[:100] < t + 0.01).mean() > train.MAX_WRONGLY_REFUSED  # the highest such threshold, to a hundredth


def test_unanswerables_refused_near_the_operating_point_average_over_thresholds():
    # answerable at 0.005 … 0.995: thresholds 0.03 … 0.07 refuse 3–7% of them; the unanswerable ones are
    # spread the same way, so those thresholds refuse 3–7% of them too: 0.05 on average
    p = np.r_[(np.arange(100) + 0.5) / 100, (np.arange(100) + 0.25) / 100]
    answerable = np.r_[np.ones(100, dtype=bool), np.zeros(100, dtype=bool)]
    assert train.refused_near(p, answerable, ~answerable) == pytest.approx(0.05)
    assert np.isnan(train.refused_near(p, answerable, ~answerable, lo=0.99, hi=1.0))  # no threshold up to 0.95 gets there


def test_span_vetoes_count_only_sentences_where_passing_the_span_over_could_matter():
    from qa.spans import SPAN_FEATURES

    def group(flag_gold: bool, other_number: bool = True):
        X = np.zeros((3, len(SPAN_FEATURES)))
        X[:2, SPAN_FEATURES.index("is_number")] = 1
        X[0, SPAN_FEATURES.index("change_as_level")] = 1  # a level, for a change asked
        if not other_number:
            X[1, SPAN_FEATURES.index("is_number")] = 0
        labels = np.array([6.0, 0.0, 0.0]) if flag_gold else np.array([0.0, 6.0, 0.0])
        return None, (X, labels), 3.0

    right = [group(False)] * 38
    assert train.span_vetoes(right + [group(True)] * 2, np.full(40, 3.0)) == ["change_as_level"]  # 2 of 40
    assert train.span_vetoes(right + [group(True)] * 3, np.full(41, 3.0)) == []  # 3 of 41: over 1 in 20
    assert train.span_vetoes([group(False)] * 29, np.full(29, 3.0)) == []  # too few to tell
    # where the sentence gives no other number, the veto could not act: such sentences do not count
    lone = [group(True, other_number=False)] * 10
    assert train.span_vetoes(right + lone, np.full(48, 3.0)) == ["change_as_level"]


def test_vetoes_weigh_answers_as_the_refusal_trees_do():
    n = 100
    Z = np.zeros((n, len(ANSWERABLE_FEATURES)))
    Z[:, ANSWERABLE_FEATURES.index("best_missing")] = 1
    y = np.zeros(n)
    y[:8] = 1  # 8 of 100 right: over the 1-in-20 bar counted plainly …
    domains = np.array(["mrc"] * 8 + ["reports"] * 92)  # … but all of them SQuAD answers, which weigh 0.3
    assert train.vetoes(Z, y, np.ones(n)) == []
    assert train.vetoes(Z, y, train.refusal_weights(domains)) == ["best_missing"]


@pytest.mark.parametrize("doc, name", [
    (dict(meeting="中国共产党第十五次全国代表大会", kind="党代会报告", title="高举邓小平理论伟大旗帜", year=1997), "十五大报告"),
    (dict(meeting="第十届全国人民代表大会第一次会议", kind="政府工作报告", title="政府工作报告", year=2003), "2003年政府工作报告"),
    (dict(meeting=None, kind="党代会报告", title="同心共建美丽拱墅", year=2016), "2016年同心共建美丽拱墅"),
])
def test_synthetic_questions_name_a_report_as_people_do(doc, name):
    from types import SimpleNamespace

    assert train.report_title(SimpleNamespace(**doc)) == name


def test_span_labels_rank_the_exact_answer_over_near_ones_over_the_rest():
    from qa.spans import Span

    spans = [Span(0, 4, t, "words") for t in ("4000户", "拆迁4000户", "计划", "4000")]
    y = train.span_labels(spans, ["4000户"])
    assert y[0] == 6 and 0 < y[1] < 6 and 0 < y[3] < 6 and y[2] == 0
    assert train.span_labels(spans[1:], ["4000户"]).max() < 6  # no exact span: the nearest ones still rank


def test_each_answerable_question_is_asked_again_without_its_report_and_without_its_answer():
    from types import SimpleNamespace

    from qa.types import Hit, Passage

    texts = [("a", "全年新增就业12万人。"), ("a", "全年粮食产量稳定。"), ("b", "新增就业8万人。"), ("a", "新增就业一十二万人")]
    hits = [Hit(Passage(f"p{i}", doc, text, 0, len(text)), 1.0 - i / 10) for i, (doc, text) in enumerate(texts)]
    docs = {"a": SimpleNamespace(source="/reports/a.txt"), "b": SimpleNamespace(source="/reports/b.txt")}
    assistant = SimpleNamespace(search=lambda q, k: hits[:k], index=SimpleNamespace(documents=docs))
    row = {"id": "q1", "question": "全年新增就业多少人？", "answers": ["12万人"], "answerable": True, "doc": "a.txt"}
    items = {it.domain: it for it in train.collect(assistant, [row], "reports")}
    assert set(items) == {"reports", "reports-without-gold", "reports-without-answer"}
    assert [h.passage.doc_id for h in items["reports-without-gold"].hits] == ["b"]
    near = items["reports-without-answer"]
    assert not near.answerable and near.row["answers"] == []
    assert [h.passage.passage_id for h in near.hits] == ["p1", "p2"]  # its report, less the answer in any numerals
    unanswerable = {**row, "answerable": False, "answers": []}
    assert [it.domain for it in train.collect(assistant, [unanswerable], "reports")] == ["reports"]


def test_a_level_is_asked_again_as_a_change_only_where_the_report_says_no_change_of_it():
    from types import SimpleNamespace

    text = "全年新能源汽车产量突破70万辆。粮食总产量1344亿斤。粮食产量比上年增长2%。"
    doc = SimpleNamespace(text=text, doc_id="d", source="/reports/henan.txt", title="政府工作报告", year=2025,
                          kind="政府工作报告", meeting=None)
    rows = train.changed_questions(SimpleNamespace(index=SimpleNamespace(documents={"d": doc})))
    assert len(rows) == 1 and "新能源汽车产量" in rows[0]["question"]  # 粮食产量's change is said
    assert re.search(r"(增长|增加)了多少？$", rows[0]["question"]) and not rows[0]["answerable"]
    assert rows[0]["evidence"] == "全年新能源汽车产量突破70万辆。"


def test_calibration_recovers_the_odds_of_the_rows_it_is_fitted_on():
    rng = np.random.default_rng(3)
    scores = rng.normal(-1, 2, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.7 * scores + 1.3)))).astype(float)  # under-confident scores
    rows = np.arange(4000) % 2 == 0  # the other half is noise it must not look at
    y[~rows] = 0
    a, b = train.calibrate(scores, y, rows)
    assert a == pytest.approx(0.7, abs=0.1) and b == pytest.approx(1.3, abs=0.15)


def work_report(review: str, plan: str):
    """An index-like object holding one 2025 work report: a passage for each half, under its heading."""
    from types import SimpleNamespace

    from qa.types import Passage

    review, plan = "一、2024年工作回顾\n" + review, "二、2025年工作安排\n" + plan
    text = review + plan
    doc = SimpleNamespace(text=text, doc_id="d", source="/reports/anhui.txt", title="政府工作报告", year=2025,
                          plan_year=2025, kind="政府工作报告", meeting=None)
    passages = [Passage("p1", "d", review, 0, len(review), "一、2024年工作回顾"),
                Passage("p2", "d", plan, len(review), len(text), "二、2025年工作安排")]
    return SimpleNamespace(index=SimpleNamespace(documents={"d": doc}, passages=passages))


def test_a_quantity_is_asked_again_in_the_other_tense_only_where_the_other_half_never_names_it():
    assistant = work_report("新建5G基站1.1万个。粮食产量836.9亿斤。",
                            "粮食产量稳定在800亿斤以上。全年新增城镇就业65万人。今年新建公园30个。")
    syn = [{"id": f"syn-{i}", "question": f"安徽{s}多少？", "answers": [n], "evidence": e, "doc": "/reports/anhui.txt",
            "answerable": True, "about": "anhui.txt", "ref": "安徽", "subject": s}
           for i, (s, n, e) in enumerate([("新建5G基站", "1.1万个", "新建5G基站1.1万个。"),
                                          ("粮食产量", "836.9亿斤", "粮食产量836.9亿斤。"),
                                          ("全年新增城镇就业", "65万人", "全年新增城镇就业65万人。"),
                                          ("今年新建公园", "30个", "今年新建公园30个。")])]
    rows = {r["id"]: r for r in train.tense_swapped(syn, assistant)}
    assert set(rows) == {"syn-0-tense", "syn-2-tense"}  # 粮食产量 is in both halves; 今年 says its year
    assert re.search(r"2025年|今年", rows["syn-0-tense"]["question"])  # a result asked as a target
    assert re.search(r"2024年|去年", rows["syn-2-tense"]["question"])  # a target asked as a result
    assert all(not r["answerable"] and r["answers"] == [] for r in rows.values())


def test_a_question_people_wrote_is_asked_again_in_the_other_tense_where_the_other_half_never_says_it():
    assistant = work_report("为民办实事投入资金835亿元。粮食产量836.9亿斤。", "粮食产量稳定在800亿斤以上。")

    def row(i, question, answer, evidence):
        return {"id": f"r{i}", "question": question, "answers": [answer], "evidence": evidence,
                "doc": "anhui.txt", "about": "anhui.txt", "answerable": True}
    rows = [row(1, "2025年安徽省政府工作报告中，去年为民办实事一共投入了多少资金？", "835亿元", "为民办实事投入资金835亿元。"),
            row(2, "安徽2024年粮食产量是多少？", "836.9亿斤", "粮食产量836.9亿斤。"),  # the plan half names it
            row(3, "安徽为民办实事投入了多少资金？", "835亿元", "为民办实事投入资金835亿元。")]  # no year to change
    out = train.retensed(rows, assistant)
    assert [r["question"] for r in out] == ["2025年安徽省政府工作报告中，今年为民办实事投入多少资金？"]
    assert not out[0]["answerable"] and out[0]["answers"] == [] and out[0]["id"] == "r1-retensed"
