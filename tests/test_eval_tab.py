"""The evaluate tab's handler, called directly (the browser test clicks through it)."""

import json

import gradio as gr
import pytest

from qa.config import Settings
from qa.eval_tab import EvalTab
from qa.library import Library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tab(app_index, app_env, monkeypatch_module):
    for key, value in app_env.items():
        monkeypatch_module.setenv(key, value)
    with gr.Blocks():
        return EvalTab(Library(Settings.resolve(index_dir=str(app_index))), gr.State("zh"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_a_bad_line_is_reported_with_its_number(tab, tmp_path):
    bad = tmp_path / "bad.jsonl"
    good = {"id": "1", "question": "2019年计划拆迁多少户？", "answers": ["3000户"], "evidence": "2019年计划拆迁3000户",
            "doc": "gov-2019.txt", "type": "number", "answerable": True}
    bad.write_text(json.dumps(good, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    tables, recall, by_type, files, _ = tab.run(str(bad), False, ["bm25"], "1,5", "zh", progress=lambda *a, **k: None)
    assert "出错了" in tables and ":2" in tables
    assert recall is None and by_type is None and files is None


def test_squad_needs_a_file(tab):
    tables, *_ = tab.run(None, True, ["bm25"], "5", "en", progress=lambda *a, **k: None)
    assert "SQuAD format needs" in tables


def test_a_run_writes_the_report_files(tab, tmp_path):
    data = tmp_path / "one.jsonl"
    row = {"id": "1", "question": "2019年计划拆迁多少户？", "answers": ["3000户"], "evidence": "2019年计划拆迁3000户",
           "doc": "gov-2019.txt", "type": "number", "answerable": True}
    data.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    tables, recall, by_type, files, last = tab.run(str(data), False, ["bm25", "hybrid"], "1,5", "zh",
                                                   progress=lambda *a, **k: None)
    assert "| 答案准确率（答案含标准答案） | 1.000 | 1.000 |" in tables and "评测报告" in tables
    assert "answer accuracy" not in tables and "1 个问题" in tables
    relabelled = tab.relabel("en", last)  # the language switch shows the same evaluation in English
    english = relabelled[-1]
    assert "| answer accuracy (gold in answer) | 1.000 | 1.000 |" in english and "1 questions in" in english
    assert "评测" not in english
    assert recall.endswith("recall_at_k.zh.png") and by_type.endswith("accuracy_by_type.zh.png")
    # the plots too: drawn again with English words
    assert relabelled[-4].endswith("recall_at_k.en.png") and relabelled[-3]["value"].endswith("accuracy_by_type.en.png")
    assert sorted(f.rsplit("/", 1)[-1] for f in files) == ["metrics.json", "per_question.csv", "report.md"]
