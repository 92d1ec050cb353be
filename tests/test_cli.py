import json
import re
import sys

import pytest

from qa.cli import main
from qa.config import ENV, Settings
from qa.ingest import ingest

FILES = {
    "a.txt": """上半年工作报告
——在中共杭州市拱墅区委七届十次全体（扩大）会议上的报告
(2016年7月28日)
许 明
一、上半年主要工作
城中村改造完成拆迁和整治5500户，新建安置房100万平方米。
地铁5号线站点建设全面开工。""",
    "b.txt": """政府工作报告
（2017年1月5日）
各位代表：过去一年，全区经济稳步增长。
运河财富小镇引进金融企业30家，税收增长明显。""",
}
CITATION_FIELDS = {"n", "doc_id", "title", "date", "source", "section", "passage_id", "quote", "text",
                   "start", "end", "page", "ocr", "score"}
PASSAGE_FIELDS = {"passage_id", "doc_id", "title", "date", "source", "section", "text", "start", "end", "page", "ocr",
                  "score"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, tiny_st_model):
    folder = tmp_path_factory.mktemp("cli_corpus")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(index_dir=folder / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    return folder / "index"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for var in ENV.values():
        monkeypatch.delenv(var, raising=False)


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def assert_user_error(code, out, err, *fragments):
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qa: error:")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_ask_json_contract(capsys, index_dir, mode):
    code, out, _ = run(capsys, "ask", "--json", "--index", index_dir, "--mode", mode, "城中村改造要拆迁多少户？")
    assert code == 0
    [result] = json_lines(out)
    assert {"question", "answer", "short_answer", "answerable", "citations", "passages", "timings_ms"} <= set(result)
    assert result["question"] == "城中村改造要拆迁多少户？"
    assert result["answerable"] is True
    assert result["short_answer"] == "5500户"
    assert result["answer"].endswith("[1]")
    [citation] = result["citations"]
    assert CITATION_FIELDS <= set(citation)
    assert citation["n"] == 1
    assert citation["doc_id"] == "a"
    assert citation["title"] == "上半年工作报告"
    assert citation["date"] == "2016-07-28"
    assert citation["source"].endswith("a.txt")
    assert citation["section"] == "一、上半年主要工作"
    assert citation["quote"] in citation["text"]
    assert "5500户" in citation["quote"]
    assert isinstance(citation["start"], int) and citation["end"] - citation["start"] == len(citation["text"])
    assert citation["page"] is None  # a text file has no pages
    assert result["passages"] and all(PASSAGE_FIELDS <= set(p) for p in result["passages"])
    assert {"retrieve", "answer", "total"} <= set(result["timings_ms"])


def test_ask_json_refusal(capsys, index_dir):
    code, out, _ = run(capsys, "ask", "--json", "--index", index_dir, "宁波的城中村改造要拆迁多少户？")
    assert code == 0
    [result] = json_lines(out)
    assert result["answerable"] is False
    assert result["citations"] == [] and result["short_answer"] is None
    assert result["answer"] == "资料中未找到与该问题直接相关的内容。"


def test_ask_text_output(capsys, index_dir):
    code, out, _ = run(capsys, "ask", "--index", index_dir, "--mode", "bm25", "城中村改造要拆迁多少户？")
    assert code == 0
    assert "[1]" in out and "简答：5500户" in out and "来源：" in out
    assert "《上半年工作报告》" in out


@pytest.mark.parametrize("content", [
    '{"question": "城中村改造要拆迁多少户？", "id": 1}\n\n{"question": "运河财富小镇引进多少家金融企业？"}\n'
    '{"question": "地铁几号线开工？"}\n',
    "城中村改造要拆迁多少户？\n\n运河财富小镇引进多少家金融企业？\n地铁几号线开工？\n",
], ids=["jsonl", "plain"])
def test_ask_questions_file(capsys, index_dir, tmp_path, content):
    questions = tmp_path / "questions.txt"
    questions.write_text(content, encoding="utf-8")
    code, out, _ = run(capsys, "ask", "--json", "--index", index_dir, "--mode", "bm25", "--questions", questions)
    assert code == 0
    results = json_lines(out)
    assert [r["question"] for r in results] == ["城中村改造要拆迁多少户？", "运河财富小镇引进多少家金融企业？",
                                               "地铁几号线开工？"]
    assert results[0]["short_answer"] == "5500户"
    assert results[1]["short_answer"] == "30家"


def test_search_json(capsys, index_dir):
    code, out, _ = run(capsys, "search", "--json", "--index", index_dir, "-k", "3", "城中村改造拆迁")
    assert code == 0
    [result] = json_lines(out)
    assert result["query"] == "城中村改造拆迁"
    results = result["results"]
    assert 1 <= len(results) <= 3
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert all(PASSAGE_FIELDS <= set(r) for r in results)
    assert all(set(r["scores"]) == {"bm25", "dense"} for r in results)
    assert results[0]["doc_id"] == "a" and results[0]["scores"]["bm25"] > 0
    assert isinstance(results[0]["scores"]["dense"], float)


def test_search_filters(capsys, index_dir):
    code, out, _ = run(capsys, "search", "--json", "--index", index_dir, "--mode", "bm25", "--year", "2017",
                       "城中村改造 运河财富小镇")
    assert code == 0
    assert {r["doc_id"] for r in json_lines(out)[0]["results"]} == {"b"}
    code, out, _ = run(capsys, "search", "--json", "--index", index_dir, "--doc", "a", "城中村改造 运河财富小镇")
    assert {r["doc_id"] for r in json_lines(out)[0]["results"]} == {"a"}


def test_search_text_output(capsys, index_dir):
    code, out, _ = run(capsys, "search", "--index", index_dir, "--mode", "bm25", "运河财富小镇")
    assert code == 0
    assert out.startswith("[1] 政府工作报告（2017-01-05）")


PDF_BLOCKS = [
    ("h", "政府工作报告"), ("p", "各位代表：过去一年，全区经济稳步增长，地区生产总值达到九百亿元。"),
    ("h", "一、城市建设"), ("p", "城中村改造完成拆迁和整治5500户，新建安置房100万平方米。"),
    ("h", "二、今年的目标"), ("p", "运河财富小镇计划引进金融企业30家，全年目标是税收增长百分之十。"),
]


@pytest.fixture(scope="module")
def pdf_index(tmp_path_factory, tiny_st_model):
    from samples import make_pdf

    folder = tmp_path_factory.mktemp("pdf_corpus")
    make_pdf(folder / "report.pdf", PDF_BLOCKS)
    ingest([folder], Settings(index_dir=folder / "index", embed_model=str(tiny_st_model)))
    return folder / "index"


def test_a_question_about_page_2_cites_page_2(capsys, pdf_index):
    code, out, _ = run(capsys, "ask", "--json", "--index", pdf_index, "--mode", "bm25", "城中村改造要拆迁多少户？")
    assert code == 0
    [result] = json_lines(out)
    [citation] = result["citations"]
    assert "5500户" in citation["quote"] and citation["page"] == 2
    assert citation["section"].endswith("一、城市建设")
    assert {p["page"] for p in result["passages"]} <= {1, 2, 3}
    code, out, _ = run(capsys, "ask", "--index", pdf_index, "--mode", "bm25", "运河财富小镇计划引进多少金融企业？")
    assert "report.pdf 第3页" in out


def test_search_json_and_text_show_pages(capsys, pdf_index):
    code, out, _ = run(capsys, "search", "--json", "--index", pdf_index, "--mode", "bm25", "地区生产总值")
    [result] = json_lines(out)
    assert result["results"][0]["page"] == 1
    code, out, _ = run(capsys, "search", "--index", pdf_index, "--mode", "bm25", "地区生产总值")
    assert "第1页" in out.splitlines()[0]


def test_environment_sets_the_index(capsys, index_dir, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    code, out, _ = run(capsys, "search", "--json", "运河财富小镇")
    assert code == 0 and json_lines(out)[0]["results"]


def test_ingest_json(capsys, tmp_path, tiny_st_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(FILES["a.txt"], encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    code, out, err = run(capsys, "ingest", corpus, "--index", tmp_path / "index", "--embed-model", tiny_st_model,
                         "--json")
    assert code == 0
    [summary] = json_lines(out)
    assert summary["documents"] == 1 and summary["passages"] >= 1
    assert len(summary["added"]) == 1 and summary["removed"] == []
    assert [s["path"].endswith("empty.txt") for s in summary["skipped"]] == [True]
    assert summary["model"] == str(tiny_st_model)
    assert "qa: skipped" in err and "empty" in err


def test_ingest_nothing_readable_exits_2_and_writes_no_index(capsys, tmp_path, tiny_st_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    for path in (corpus, tmp_path / "image.txt"):
        code, out, err = run(capsys, "ingest", path, "--index", tmp_path / "index", "--embed-model", tiny_st_model)
        assert code == 2 and out == ""
        assert "qa: error: nothing to index" in err and "Traceback" not in err
        assert "\n  skipped " in err  # each file skipped on a line of its own, with why
        index = tmp_path / "index"  # at most the writers' lock file: no build, no CURRENT
        assert not index.exists() or {p.name for p in index.iterdir()} <= {"LOCK"}
    # and so `qa ask` never meets an index that refuses everything
    for i in range(25):
        (corpus / f"empty-{i:02}.txt").write_bytes(b"")
    code, out, err = run(capsys, "ingest", corpus, "--index", tmp_path / "index", "--embed-model", tiny_st_model)
    assert code == 2 and err.count("\n  skipped ") == 20 and "… and 6 more" in err


def test_ingest_a_path_that_does_not_exist(capsys, tmp_path, index_dir):
    before = sorted(p.name for p in index_dir.iterdir())
    assert_user_error(*run(capsys, "ingest", tmp_path / "corpsu", "--index", tmp_path / "new"), "corpsu",
                      "no such file")
    assert not (tmp_path / "new").exists()
    # a misspelled folder added to an existing index: the same, and the index is untouched
    assert_user_error(*run(capsys, "ingest", tmp_path / "corpsu", "--index", index_dir), "corpsu")
    assert sorted(p.name for p in index_dir.iterdir()) == before


def test_ask_on_an_empty_index_says_so(capsys, tmp_path, tiny_st_model):
    from qa import store
    from qa.config import Settings
    from qa.ingest import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("城中村改造完成拆迁5500户。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([corpus], settings)
    (corpus / "a.txt").unlink()
    ingest([corpus], settings)  # an index whose only report was removed
    assert store.load(settings.index_dir).passages == []
    capsys.readouterr()
    for command in ("ask", "search"):
        assert_user_error(*run(capsys, command, "拆迁多少户？", "--index", settings.index_dir), "no documents",
                          "qa ingest")


# --- user errors: one line, status 2, no traceback ---------------------------------------------

def test_no_question(capsys, index_dir):
    assert_user_error(*run(capsys, "ask", "--index", index_dir), "no question")
    assert_user_error(*run(capsys, "ask", "--index", index_dir, "   "), "no question")


def test_missing_index_folder(capsys, tmp_path):
    assert_user_error(*run(capsys, "ask", "--index", tmp_path / "nowhere", "问题"), "qa ingest")
    assert_user_error(*run(capsys, "search", "--json", "--index", tmp_path / "nowhere", "问题"), "no index")


@pytest.mark.parametrize("content, fragment", [
    ('{"question": "城中村改造？"}\n{"q": "wrong field"}\n', "questions.jsonl:2:"),
    ('{"question": "城中村改造？"}\n{not json\n', "questions.jsonl:2:"),
])
def test_bad_questions_line(capsys, index_dir, tmp_path, content, fragment):
    path = tmp_path / "questions.jsonl"
    path.write_text(content, encoding="utf-8")
    assert_user_error(*run(capsys, "ask", "--json", "--index", index_dir, "--questions", path), fragment, "question")


def test_missing_questions_file(capsys, index_dir, tmp_path):
    assert_user_error(*run(capsys, "ask", "--index", index_dir, "--questions", tmp_path / "none.jsonl"),
                      "none.jsonl")


def test_question_and_questions_file(capsys, index_dir, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("问题\n", encoding="utf-8")
    assert_user_error(*run(capsys, "ask", "--index", index_dir, "--questions", path, "问题"), "not both")


def test_unknown_mode_flag(capsys, index_dir):
    with pytest.raises(SystemExit) as exit_:
        main(["ask", "--index", str(index_dir), "--mode", "fuzzy", "问题"])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "invalid choice: 'fuzzy'" in err and "bm25" in err
    assert "Traceback" not in err


def test_unknown_mode_from_environment(capsys, index_dir, monkeypatch):
    monkeypatch.setenv("QA_MODE", "fuzzy")
    assert_user_error(*run(capsys, "ask", "--index", index_dir, "问题"), "unknown retrieval mode 'fuzzy'",
                      "hybrid, dense, bm25")


@pytest.mark.parametrize("argv, fragment", [
    (["-k", "0"], "top-k"),
    (["--embed-model", "some-org/other-model"], "--rebuild"),
])
def test_bad_settings(capsys, index_dir, argv, fragment):
    assert_user_error(*run(capsys, "ask", "--index", index_dir, *argv, "问题"), fragment)


def test_bad_environment_value(capsys, index_dir, monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "many")
    assert_user_error(*run(capsys, "ask", "--index", index_dir, "问题"), "QA_TOP_K")


def test_no_command():
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2


EVAL_ROWS = [
    {"id": "e1", "question": "城中村改造完成拆迁和整治多少户？", "answers": ["5500户"],
     "evidence": "城中村改造完成拆迁和整治5500户", "doc": "a.txt", "type": "number", "answerable": True},
    {"id": "e2", "question": "火星基地什么时候建成？", "answers": [], "evidence": "", "doc": "",
     "type": "unanswerable", "answerable": False},
]


def write_rows(tmp_path, rows):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
                    encoding="utf-8")
    return path


def test_eval_writes_the_report_and_compares(capsys, index_dir, tmp_path):
    dataset = write_rows(tmp_path, EVAL_ROWS)
    code, out, err = run(capsys, "eval", dataset, "--index", index_dir, "--modes", "bm25,hybrid", "-k", "1,5",
                         "--out", tmp_path / "run")
    assert code == 0, err
    assert "| metric | bm25 | hybrid |" in out and "| hit@5 |" in out
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "report.md", "metrics.json", "per_question.csv", "recall_at_k.png", "accuracy_by_type.png"}
    metrics = tmp_path / "run" / "metrics.json"
    code, out, err = run(capsys, "eval", "--compare", metrics, metrics)
    assert code == 0, err
    assert out.startswith("| mode | metric | A | B | B − A |") and "+0.000" in out


def test_eval_bad_dataset_line(capsys, index_dir, tmp_path):
    dataset = write_rows(tmp_path, [EVAL_ROWS[0], {"id": "x", "question": "缺字段"}])
    assert_user_error(*run(capsys, "eval", dataset, "--index", index_dir, "--out", tmp_path / "o"),
                      "set.jsonl:2:", "missing field(s)")


@pytest.mark.parametrize("argv, fragment", [
    (["eval"], "give a dataset"),
    (["eval", "--modes", "bm25,fast", "data/eval/dev.jsonl"], "unknown retrieval mode(s) fast"),
    (["eval", "-k", "a", "data/eval/dev.jsonl"], "whole numbers"),
    (["eval", "--compare", "no-a.json", "no-b.json"], "no-a.json: not a readable metrics.json"),
])
def test_eval_user_errors(capsys, index_dir, tmp_path, argv, fragment):
    assert_user_error(*run(capsys, *argv, "--index", index_dir, "--out", tmp_path / "o"), fragment)


# --- qa docs -------------------------------------------------------------------------------------

DOC_FIELDS = {"doc_id", "source", "part", "title", "date", "place", "speaker", "meeting", "kind", "provenance"}


@pytest.fixture
def own_index(index_dir, tmp_path):
    import shutil

    shutil.copytree(index_dir, tmp_path / "index")
    return tmp_path / "index"


def test_docs_json_lists_every_document_with_provenance(capsys, index_dir):
    code, out, _ = run(capsys, "docs", "--json", "--index", index_dir)
    docs = {d["doc_id"]: d for d in json_lines(out)}
    assert code == 0 and set(docs) == {"a", "b"}
    assert DOC_FIELDS <= set(docs["a"])
    assert docs["a"]["date"] == "2016-07-28" and docs["a"]["provenance"]["date"]["source"] == "date line"
    assert docs["a"]["speaker"] == "许明"


def test_docs_text_says_where_each_value_came_from(capsys, index_dir):
    code, out, _ = run(capsys, "docs", "--index", index_dir)
    assert code == 0
    assert "date     2016-07-28  (date line, 0.95)" in out
    assert "place    —  (not stated)" in out


def test_docs_set_overrides_and_survives_reingest(capsys, own_index, tiny_st_model):
    code, out, _ = run(capsys, "docs", "set", "b", "--date", "2017年1月5日", "--place", "拱墅区", "--json",
                       "--index", own_index)
    assert code == 0 and json_lines(out)[0]["place"] == "拱墅区"
    assert (own_index / "overrides.json").is_file()
    code, out, _ = run(capsys, "docs", "--json", "--index", own_index)
    b = {d["doc_id"]: d for d in json_lines(out)}["b"]
    assert (b["date"], b["place"], b["provenance"]["place"]["source"]) == ("2017-01-05", "拱墅区", "user")


@pytest.mark.parametrize("argv, fragment", [
    (["docs", "set", "nope", "--date", "2017"], "unknown document id 'nope'"),
    (["docs", "set", "b", "--date", "2017-02-30"], "bad date"),
    (["docs", "set", "b"], "nothing to set"),
    (["docs", "set"], "needs a DOC_ID"),
    (["docs", "b", "--date", "2017"], "qa docs set DOC_ID"),
    (["docs", "--date", "2017"], "qa docs set DOC_ID"),
])
def test_docs_user_errors(capsys, own_index, argv, fragment):
    code, out, err = run(capsys, *argv, "--index", own_index)
    assert_user_error(code, out, err)
    assert fragment in err
    assert not (own_index / "overrides.json").exists()


def test_text_output_shows_no_markdown_marks(capsys, tmp_path, tiny_st_model):
    from qa.config import Settings
    from qa.ingest import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "r.md").write_text("# 区域改办工作报告\n## 打好三大会战\n**全力以赴打好全域征迁清零大会战。**确保完成剩余55户居民签约。\n",
                                 encoding="utf-8")
    ingest([corpus], Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model)))
    capsys.readouterr()
    for command in ("ask", "search"):
        code, out, _ = run(capsys, command, "剩余多少户居民签约？", "--index", tmp_path / "index")
        assert code == 0 and "55户" in out
        assert "**" not in out and "#" not in out


def test_ask_says_why_it_refused_in_chinese(capsys, index_dir):
    code, out, _ = run(capsys, "ask", "养老服务中心建成几家？", "--index", index_dir)
    assert code == 0 and "原因：" in out
    reason = out.split("原因：")[1].split("\n")[0]
    assert not re.search(r"[A-Za-z]{3,}", reason), reason  # said in Chinese, not "confidence … below the threshold"


def test_a_refusal_gives_its_confidence_once():
    from qa.cli import render_answer
    from qa.types import Answer

    for why, said in (("confidence 0.01 below the threshold", "找到的句子不足以回答（置信度 0.01）"),
                      ("nothing about 宁波", "资料中没有提到“宁波”（置信度 0.01）")):
        refused = Answer("问", "资料中未找到与该问题直接相关的内容。", None, False, [], [], refusal=why, confidence=0.01)
        out = render_answer(None, refused)
        assert f"原因：{said}\n" in out + "\n" and out.count("置信度") == 1, out


def test_a_python_without_the_projects_packages_is_told_what_to_run(capsys, monkeypatch, index_dir):
    monkeypatch.setitem(sys.modules, "faiss", None)  # as in a Python where qa was never installed
    code, out, err = run(capsys, "ask", "2019年计划拆迁多少户？", "--index", index_dir)
    assert code == 2 and "Traceback" not in err
    assert "lacks the package 'faiss'" in err and "make setup" in err
