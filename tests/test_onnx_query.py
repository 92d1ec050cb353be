"""Questions embedded through the ONNX export of a real model: the same vectors, no torch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import onnx_query
from qa.config import Settings
from qa.embedding import Embedder, load_index_model, load_model
from qa.ingest import ingest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture
def indexed(tmp_path, tiny_st_model, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("政府工作报告\n城中村改造完成拆迁和整治5500户，新建安置房100万平方米。\n"
                                  "地铁5号线站点建设全面开工。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model), chunk_size=100)
    ingest([corpus], settings)
    return settings, tiny_st_model


def test_ingest_exports_the_model_and_questions_get_the_same_vectors(indexed):
    settings, model = indexed
    export = onnx_query.cache_dir(model, str(model), None)
    assert (export / "model.onnx").exists() and json.loads((export / "meta.json").read_text())["pooling"] == "mean"
    fast = load_index_model(str(model), settings.index_dir, queries=True)
    assert isinstance(fast, onnx_query.OnnxQueries)
    full = load_model(str(model))
    questions = ["2017年计划拆迁多少户？", "全區經濟穩步增長", "GDP growth", "", "地铁" * 200]  # empty, and past max length
    ours, theirs = fast.encode_queries(questions), full.encode_queries(questions)
    assert ours.shape == theirs.shape == (5, full.dim) and ours.dtype == np.float32
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.9999
    # passages (an upload into this index) go through the full model, loaded when first needed
    assert np.allclose(fast.encode_passages(["新建安置房"]), full.encode_passages(["新建安置房"]), atol=1e-5)


def test_without_queries_or_without_an_export_the_full_model_is_loaded(indexed, tmp_path, monkeypatch):
    settings, model = indexed
    assert isinstance(load_index_model(str(model), settings.index_dir), Embedder)
    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "empty-cache"))
    assert isinstance(load_index_model(str(model), settings.index_dir, queries=True), Embedder)


def test_qa_ask_with_a_real_model_does_not_import_torch(indexed):
    settings, model = indexed
    probe = ("import sys, runpy; sys.argv = ['qa', 'ask', '城中村改造拆迁多少户？', '--index', sys.argv[1]]\n"
             "try:\n    runpy.run_module('qa', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'ST' if 'sentence_transformers' in sys.modules else 'NO-ST')")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", probe, str(settings.index_dir)], cwd=root, env={**os.environ},
                         capture_output=True, text=True, timeout=300).stdout
    assert "5500户" in out
    assert out.strip().splitlines()[-1] == "NO-TORCH NO-ST"


def test_a_model_of_another_layout_is_not_exported(tiny_st_model, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "cache"))
    embedder = load_model(str(tiny_st_model))
    monkeypatch.setattr(onnx_query, "_layout", lambda st: None)
    assert onnx_query.export(embedder, tiny_st_model) is None
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("meta.json"))
