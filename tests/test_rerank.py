"""The optional cross-encoder reranker, with a tiny random-weight cross-encoder built on the fly
(BERT, 2 layers, one output) from the tiny embedding model's tokenizer."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_cross_encoder(tiny_st_model, tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    hf = tiny_st_model.parent / "hf"  # the tokenizer conftest trained
    folder = tmp_path_factory.mktemp("tiny_ce")
    tok = AutoTokenizer.from_pretrained(hf)
    tok.save_pretrained(folder)
    torch.manual_seed(1)
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_reranking_orders_the_fused_top_by_the_cross_encoder(tiny_cross_encoder, app_index):
    from qa.config import Settings
    from qa.pipeline import Assistant
    from qa.rerank import Reranker

    plain = Assistant(Settings(index_dir=app_index))
    reranked = Assistant(Settings(index_dir=app_index, rerank=str(tiny_cross_encoder)))
    q = "2019年计划拆迁多少户？"
    fused = plain.search(q, 20)
    got = reranked.search(q, 2)
    assert len(got) == 2 and {h.passage.passage_id for h in got} <= {h.passage.passage_id for h in fused}
    from qa.normalize import for_search

    # what the reranker reads: both sides folded for search, in batches of 16
    scores = Reranker(str(tiny_cross_encoder)).model.predict(
        [(for_search(q), for_search(h.passage.text)) for h in fused], batch_size=16, show_progress_bar=False)
    best = sorted(zip(scores, [h.passage.passage_id for h in fused]), reverse=True)[:2]
    assert [h.passage.passage_id for h in got] == [pid for _, pid in best]
    assert all("rerank" in h.scores for h in got)
    assert got[0].scores["rerank"] >= got[1].scores["rerank"]


def test_cli_search_with_rerank_and_a_missing_model(tiny_cross_encoder, app_index, app_env):
    run = lambda *extra: subprocess.run([sys.executable, "-m", "qa.cli", "search", "拆迁", "--json", "-k", "2",
                                         "--index", str(app_index), *extra], capture_output=True, text=True,
                                        cwd=ROOT, env=app_env, timeout=300)
    out = run("--rerank", str(tiny_cross_encoder))
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["results"]
    assert len(results) == 2 and all("rerank" in r["scores"] for r in results)
    missing = run("--rerank", "/nonexistent/reranker")
    last = missing.stderr.strip().splitlines()[-1]
    assert missing.returncode == 2 and last.startswith("qa: error: reranker /nonexistent/reranker is not on this machine")
    assert "Traceback" not in missing.stderr


def test_eval_measures_the_reranker_against_none(tiny_cross_encoder, app_index, tmp_path):
    from qa import evalrun
    from qa.config import Settings

    rows = [{"id": "a", "question": "2019年计划拆迁多少户？", "answers": ["3000户"], "evidence": "2019年计划拆迁3000户",
             "doc": "gov-2019.txt", "type": "number", "answerable": True}]
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(rows[0], ensure_ascii=False), encoding="utf-8")
    settings = Settings(index_dir=app_index, rerank=str(tiny_cross_encoder))
    result = evalrun.run(data, settings, modes="bm25", ks="1,5", out_dir=tmp_path / "r")
    assert result["modes_run"] == ["bm25", "bm25+rerank"] and set(result["modes"]) == {"bm25", "bm25+rerank"}
    csv = (tmp_path / "r" / "per_question.csv").read_text(encoding="utf-8-sig")
    assert [line.split(",")[0] for line in csv.splitlines()[1:]] == ["bm25", "bm25+rerank"]
    assert "| metric | bm25 | bm25+rerank |" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
