import csv
import json

import pytest

from qa import evalrun
from qa.config import ConfigError, Settings
from qa.ingest import ingest

FILES = {
    "a.txt": "上半年工作报告\n一、城市建设\n城中村改造完成拆迁和整治5500户，新建安置房100万平方米。\n"
             "地铁5号线站点建设全面开工。\n",
    "b.txt": "政府工作报告\n各位代表：过去一年，全区经济稳步增长。\n运河财富小镇引进金融企业30家，税收增长明显。\n",
}
ROWS = [
    {"id": "q1", "question": "城中村改造完成拆迁和整治多少户？", "answers": ["5500户"],
     "evidence": "城中村改造完成拆迁和整治5500户", "doc": "a.txt", "type": "number", "answerable": True},
    {"id": "q2", "question": "运河财富小镇引进金融企业多少家？", "answers": ["30家"],
     "evidence": "运河财富小镇引进金融企业30家", "doc": "b.txt", "type": "number", "answerable": True},
    {"id": "q3", "question": "哪条地铁线站点建设全面开工？", "answers": ["地铁5号线"],
     "evidence": "地铁5号线站点建设全面开工", "doc": "a.txt", "type": "place", "answerable": True},
    {"id": "q4", "question": "火星基地什么时候建成？", "answers": [], "evidence": "", "doc": "",
     "type": "unanswerable", "answerable": False},
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory, tiny_st_model):
    folder = tmp_path_factory.mktemp("eval_corpus")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(index_dir=folder / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    return settings


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval_set") / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def evaluated(settings, dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_out")
    calls = []
    result = evalrun.run(dataset, settings, ["bm25", "hybrid"], [1, 3], out, lambda d, t: calls.append((d, t)))
    return result, out, calls


def test_metrics_for_each_mode_and_type(evaluated):
    result, _, _ = evaluated
    assert list(result["modes"]) == ["bm25", "hybrid"] and result["ks"] == [1, 3] and result["questions"] == 4
    overall = result["modes"]["bm25"]["overall"]
    assert overall["answerable"] == 3 and overall["unanswerable"] == 1
    for key in ("hit@1", "hit@3", "recall@1", "recall@3", "mrr@10", "ndcg@10", "exact_match", "f1",
                "answer_accuracy", "citation_accuracy", "false_refusals", "refused_unanswerable",
                "retrieve_ms_p50", "answer_ms_p95", "unsupported_numbers"):
        assert key in overall, key
    assert overall["hit@3"] == 1.0  # three short passages: all evidence is in the top 3
    assert 0 <= overall["recall@1"] <= overall["recall@3"] <= 1
    assert set(result["modes"]["bm25"]["by_type"]) == {"number", "place", "unanswerable"}
    assert result["modes"]["bm25"]["by_type"]["number"]["questions"] == 2
    assert "hit@1" not in result["modes"]["bm25"]["by_type"]["unanswerable"]


def test_progress_is_reported_for_every_question_and_mode(evaluated):
    _, _, calls = evaluated
    assert calls == [(n, 8) for n in range(1, 9)]


def test_files_written(evaluated):
    result, out, _ = evaluated
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == result
    raw = (out / "per_question.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    rows = list(csv.DictReader((out / "per_question.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 8 and rows[0]["question"] == ROWS[0]["question"] and rows[0]["gold"] == "5500户"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | bm25 | hybrid |" in report and "By question type — hybrid" in report
    for png in ("recall_at_k.png", "accuracy_by_type.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_squad_open_domain(settings, tmp_path):
    squad = {"data": [{"title": "报告", "paragraphs": [
        {"id": "p1", "context": FILES["a.txt"], "qas": [{"id": "s1", "question": "城中村改造完成拆迁和整治多少户？",
                                                         "answers": [{"text": "5500户"}]}]},
        {"id": "p2", "context": FILES["b.txt"], "qas": [{"id": "s2", "question": "运河财富小镇引进金融企业多少家？",
                                                         "answers": [{"text": "30家"}]}]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    result = evalrun.run(path, settings, ["bm25"], [1], squad=True)
    overall = result["modes"]["bm25"]["overall"]
    assert overall["questions"] == 2 and overall["hit@1"] == 1.0
    assert "SQuAD" in result["dataset"] and result["settings"]["index"] != str(settings.index_dir)


@pytest.mark.parametrize("modes, ks, fragment", [
    ("bm25,sparse", "1", "sparse"),
    ("", "1", "(none)"),
    ("bm25", "1,x", "whole numbers"),
    ("bm25", "0,5", "1 or more"),
])
def test_bad_modes_and_ks(modes, ks, fragment):
    with pytest.raises(ConfigError) as err:
        evalrun.check_modes(modes) and evalrun.check_ks(ks)
    assert fragment in str(err.value)


def test_modes_and_ks_parsed():
    assert evalrun.check_modes("bm25,dense,bm25") == ("bm25", "dense")
    assert evalrun.check_ks("10,1,5,5") == (1, 5, 10)
