"""`qa ask --answerer llm` and `qa eval --answerer llm` against the scripted server: claims in the
JSON, the notice of a fallback on stderr and in the JSON, the share of claims verified."""

import json
import subprocess
import sys
from pathlib import Path

import llm_server
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server():
    srv = llm_server.start()
    yield srv
    srv.shutdown()


def qa(args, env, app_env):
    out = subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=ROOT,
                         env={**app_env, **env}, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def test_ask_llm_json_has_checked_claims(server, app_index, app_env):
    out = qa(["ask", "2019年计划拆迁多少户？", "--answerer", "llm", "--json", "--index", str(app_index)],
             {"QA_LLM_URL": server.url, "QA_LLM_MODEL": "mixed"}, app_env)
    got = json.loads(out.stdout)
    assert got["answerer"] == "llm" and got["notice"] is None
    assert [(c["verified"], c["citations"]) for c in got["claims"]] == [(True, [1]), (False, [1])]
    assert "80万平方米" in got["claims"][1]["reason"]
    assert got["citations"][0]["quote"] == "2019年计划拆迁3000户，新建安置房50万平方米。"
    text = qa(["ask", "2019年计划拆迁多少户？", "--index", str(app_index)],
              {"QA_ANSWERER": "llm", "QA_LLM_URL": server.url, "QA_LLM_MODEL": "mixed"}, app_env).stdout
    assert "未核实：“新建安置房80万平方米”（所引段落 [1] 中没有 80万平方米）" in text and "已核实：1/2 条陈述" in text


def test_ask_falls_back_with_a_notice_when_the_server_is_down(app_index, app_env):
    from conftest import free_port

    out = qa(["ask", "2019年计划拆迁多少户？", "--answerer", "llm", "--json", "--index", str(app_index)],
             {"QA_LLM_URL": f"http://127.0.0.1:{free_port()}/v1", "QA_LLM_MODEL": "x"}, app_env)
    got = json.loads(out.stdout)
    assert got["answerer"] == "extractive" and "3000户" in got["answer"] and got["claims"] == []
    assert got["notice"].startswith("LLM unavailable (cannot reach")  # the API's text stays English
    assert out.stderr.strip().splitlines()[-1].startswith("qa: 大模型不可用（无法连接 127.0.0.1:")
    assert out.stderr.strip().splitlines()[-1].endswith("），改为给出抽取式回答")


def test_eval_reports_the_share_of_claims_verified(server, app_index, app_env, tmp_path):
    rows = [{"id": "a", "question": "2019年计划拆迁多少户？", "answers": ["3000户"], "evidence": "2019年计划拆迁3000户",
             "doc": "gov-2019.txt", "type": "number", "answerable": True}]
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(rows[0], ensure_ascii=False), encoding="utf-8")
    out = qa(["eval", str(data), "--answerer", "llm", "--modes", "bm25", "--index", str(app_index), "--out",
              str(tmp_path / "r")], {"QA_LLM_URL": server.url, "QA_LLM_MODEL": "mixed"}, app_env)
    overall = json.loads((tmp_path / "r" / "metrics.json").read_text())["modes"]["bm25"]["overall"]
    assert overall["claims_verified"] == 0.5 and overall["answers_with_unverified_claim"] == 1.0
    assert overall["llm_fallbacks"] == 0.0
    assert "claims verified against their citations" in out.stdout
