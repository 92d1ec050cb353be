"""The app's API through gradio_client: the same JSON as `qa ask --json`; uploads through the API."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


QUESTIONS = ["2019年计划拆迁多少户？", "火锅节的地点在哪里？", "火星基地的建设进度如何？"]


@pytest.fixture(scope="module")
def cli_answers(app_index, app_env, tmp_path_factory):
    """`qa ask --json` for QUESTIONS, in one process."""
    questions = tmp_path_factory.mktemp("cli") / "questions.txt"
    questions.write_text("\n".join(QUESTIONS), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--json", "--questions", str(questions),
                          "--index", str(app_index)], capture_output=True, text=True, cwd=ROOT, env=app_env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return {row["question"]: row for row in map(json.loads, out.stdout.splitlines())}


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_returns_the_same_json_as_the_cli(client, cli_answers, question):
    got = client.predict(question, api_name="/ask")
    want = cli_answers[question]
    assert set(got) == set(want)
    assert got["timings_ms"].keys() == want["timings_ms"].keys()
    got.pop("timings_ms"), want.pop("timings_ms")
    assert got == want


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_an_empty_question_is_an_error(client, question):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty question"):
        client.predict(question, api_name="/ask")


def test_ask_answers_with_citations(client):
    got = client.predict("2020年计划拆迁多少户？", api_name="/ask")
    assert got["answerable"] and "5000" in got["short_answer"]
    assert got["citations"][0]["quote"] in got["citations"][0]["text"] and got["citations"][0]["title"] == "2020年政府工作报告"


def test_a_script_in_a_document_comes_back_as_plain_text(client):
    got = client.predict("火锅节有多少个摊位？", api_name="/ask")
    assert "<script>alert(2)</script>" in got["citations"][0]["text"]  # JSON keeps the text as it is


def test_upload_through_the_api_adds_a_document_without_restarting(client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "龙舟赛.txt"
    path.write_text("龙舟赛通知\n2021年龙舟赛在运河举行，共有参赛队伍36支。\n", encoding="utf-8")
    status, table, message, _ = client.predict([handle_file(str(path))], api_name="/add_documents")
    assert "新增 1 个" in message
    assert any("龙舟赛" in str(row) for row in table["data"])
    got = client.predict("龙舟赛共有多少支参赛队伍？", api_name="/ask")
    assert got["answerable"] and "36" in got["answer"]
    refused = client.predict([], api_name="/add_documents")
    assert "请先选择" in refused[2]


def test_chat_endpoint_streams_follows_up_and_filters(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)  # one session: the conversation is kept between calls
    job = client.submit("2019年计划拆迁多少户？", [], "hybrid", 5, [], [], "extractive", api_name="/chat")
    chunks = list(job)
    assert len(chunks) > 2  # streamed, not sent at once
    history = chunks[-1][0]
    assert "3000户" in str(history[-1]["content"]) and 'href="#src-0-1"' in str(history[-1]["content"])
    history, _, sources = client.predict("那2020年呢？", history, "hybrid", 5, [], [], "extractive",
                                         api_name="/chat")
    last = str(history[-1]["content"])
    assert "5000户" in last and "检索的问题：2020年计划拆迁多少户？" in last
    assert 'id="src-1-1"' in sources and "<mark>2020年计划拆迁5000户" in sources  # the second answer's source 1
    fresh = Client(app_url, verbose=False)  # a new browser session: no history, filtered to 2020
    history, _, _ = fresh.predict("计划拆迁多少户？", [], "bm25", 3, [], ["2020"], "extractive", api_name="/chat")
    assert "5000户" in str(history[-1]["content"])


def test_make_run_ingests_and_serves_in_one_process():
    """`make run` starts one Python process (app.py ingests the corpus itself), not `qa ingest` and then
    the app, each paying the imports."""
    out = subprocess.run(["make", "-n", "run"], capture_output=True, text=True, cwd=ROOT).stdout
    assert "app.py --index index --corpus data/corpus" in out and "qa ingest" not in out


def test_app_corpus_that_does_not_exist_is_one_line_and_writes_nothing(tmp_path):
    out = subprocess.run([sys.executable, "app.py", "--index", str(tmp_path / "index"), "--corpus",
                          str(tmp_path / "nope")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [f"app: error: no such file or folder: "
                                                                       f"{tmp_path / 'nope'}"]
    assert not (tmp_path / "index").exists()
