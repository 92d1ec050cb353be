import json

import pytest

from qa.evaluation import DatasetError, correct, load_dataset, load_squad, relevant

ROW = {"id": "q1", "question": "2017年计划拆迁多少户？", "answers": ["4000户"],
       "evidence": "2017年计划拆迁4000户。", "doc": "data/corpus/a.txt", "type": "number", "answerable": True}


def write_jsonl(tmp_path, rows):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
                    encoding="utf-8")
    return path


def test_load_dataset_skips_blank_lines(tmp_path):
    rows = load_dataset(write_jsonl(tmp_path, [ROW, "", {**ROW, "id": "q2"}]))
    assert [r["id"] for r in rows] == ["q1", "q2"]


@pytest.mark.parametrize("bad, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ({k: v for k, v in ROW.items() if k != "evidence"}, "missing field(s) evidence"),
    ({**ROW, "question": "  "}, "'question' must be a non-empty string"),
    ({**ROW, "answers": "4000户"}, "'answers' must be a list of strings"),
    ({**ROW, "answerable": "yes"}, "'answerable' must be true or false"),
    ({**ROW, "answers": []}, "needs at least one answer"),
])
def test_bad_line_is_named(tmp_path, bad, fragment):
    with pytest.raises(DatasetError) as err:
        load_dataset(write_jsonl(tmp_path, [ROW, bad]))
    assert ":2:" in str(err.value) and fragment in str(err.value)


def test_missing_or_empty_dataset(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(tmp_path / "none.jsonl")
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(write_jsonl(tmp_path, ["", ""]))


SQUAD = {"version": "v1", "data": [
    {"title": "拱墅区", "paragraphs": [
        {"id": "P1", "context": "2017年拱墅区计划拆迁4000户。",
         "qas": [{"id": "Q1", "question": "计划拆迁多少户？", "answers": [{"text": "4000户", "answer_start": 11},
                                                                         {"text": "4000户", "answer_start": 11}]},
                 {"id": "Q2", "question": "人口多少？", "answers": [], "is_impossible": True}]}]},
    {"title": "運河", "paragraphs": [{"context": "運河財富小鎮引進金融企業30家。",
                                     "qas": [{"question": "引进多少家金融企业？", "answers": [{"text": "30家"}]}]}]},
]}


def test_load_squad(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    rows, paragraphs = load_squad(path)
    assert [p.title for p in paragraphs] == ["拱墅区", "運河"]
    assert paragraphs[0].name == "00000-P1.txt" and paragraphs[1].name == "00001-1-0.txt"
    assert rows[0]["answers"] == ["4000户"] and rows[0]["doc"] == "00000-P1.txt" and rows[0]["answerable"]
    assert rows[1]["answerable"] is False and rows[1]["type"] == "unanswerable" and rows[1]["answers"] == []
    assert rows[2]["id"] == "1-0-0" and rows[2]["doc"] == "00001-1-0.txt"


@pytest.mark.parametrize("content, fragment", [
    ("{", "not valid JSON"),
    ('{"version": 1}', "not SQuAD format"),
    ('{"data": [{"paragraphs": [{"qas": []}]}]}', "data[0].paragraphs[0]: missing 'context'"),
    ('{"data": [{"paragraphs": [{"context": "文", "qas": [{"answers": []}]}]}]}', "qas[0]: missing 'question'"),
    ('{"data": [{"paragraphs": [{"context": "文", "qas": [{"question": "问", "answers": []}]}]}]}', "no answer text"),
    ('{"data": []}', "no questions"),
])
def test_bad_squad_files(tmp_path, content, fragment):
    path = tmp_path / "s.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_squad(path)
    assert fragment in str(err.value)


def test_relevant_by_evidence_or_by_paragraph():
    assert relevant(ROW, "前文。2017年計劃拆遷４０００戶。后文")
    assert not relevant(ROW, "2018年计划拆迁4000户。")
    squad_row = {"evidence": "", "doc": "00000-P1.txt"}
    assert relevant(squad_row, "任何", "/tmp/x/corpus/00000-P1.txt")
    assert not relevant(squad_row, "任何", "/tmp/x/corpus/00001-P2.txt")
    assert not relevant({"evidence": "", "doc": ""}, "任何", "")


def test_relevant_when_the_evidence_is_longer_than_a_passage():
    """A sentence of many clauses split between passages: the passage with the clause that states the
    answer supports it, from the row's report only; one with the other clauses does not."""
    row = {"answers": ["879公里"], "doc": "reports/beijing.txt",
           "evidence": "开通3号线一期等3条轨道新线，总里程达到879公里；优化143条公交线路；公交与轨道换乘比例达到88%"}
    first, second = "前文。开通3号线一期等3条轨道新线，总里程达到879公里；", "优化143条公交线路；公交与轨道换乘比例达到88%。"
    assert relevant(row, first, "/x/reports/beijing.txt")
    assert relevant(row, first)  # no source named: the text alone decides
    assert not relevant(row, second, "/x/reports/beijing.txt")
    assert not relevant(row, first, "/x/reports/tianjin.txt")
    assert not relevant({**row, "answers": ["879"]}, "总里程达到879", "/x/reports/beijing.txt")  # not the whole clause
    assert relevant({**row, "evidence": "标题\n来源：某网站\n总里程达到879公里。"}, "标题\n总里程达到879公里。",
                    "/x/reports/beijing.txt")  # a line the cleaner dropped
    assert not relevant({**row, "answers": ["5000公里"]}, first, "/x/reports/beijing.txt")  # no clause states it


def test_correct_folds_numbers_and_scripts():
    assert correct(ROW, "2017年計劃拆遷4,000戶[1]")
    assert not correct(ROW, "资料中未找到")
