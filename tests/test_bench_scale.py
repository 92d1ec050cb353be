"""scripts/bench_scale.py's --lexical-only ingest (issue 14, "excluding neural encoding"): the
child ingests with a stand-in for the embedding model and everything else as in the product."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "scripts" / "bench_scale.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_scale"] = bench
spec.loader.exec_module(bench)


def test_zero_encoder_writes_a_zero_row_per_passage(tmp_path):
    from qa.dense import VectorFile
    from qa.embedding import ENCODE_BATCH

    encoder = bench.zero_encoder()
    out = VectorFile(tmp_path / "v.f32", encoder.dim)
    texts = ["x"] * (ENCODE_BATCH + 7)  # more than one batch
    assert encoder.encode_passages(texts, out=out) is out
    assert len(out) == len(texts)
    assert not out.rows(0, len(texts)).any()
    out.close()
    assert encoder.encode_passages(texts[:3]).shape == (3, bench.LEXICAL_DIM)


def test_lexical_child_builds_the_products_tokens_with_zero_vectors(tmp_path):
    from qa import store
    from qa.lexical import tokenize

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    bench.make_corpus(corpus, 60)
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_scale.py"), "--lexical-child", str(corpus),
                           "--index", str(index_dir), "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["model"] == "lexical-only-stand-in"
    assert summary["phases"]["embed"] < summary["seconds"]

    index = store.load(index_dir)
    n = len(index.passages)
    assert n == summary["passages"] > 20
    assert index.manifest.dim == bench.LEXICAL_DIM
    vectors = index.vectors()
    assert vectors.shape == (n, bench.LEXICAL_DIM) and not vectors.any()
    # the BM25 side is the product's: each passage's kept tokens are tokenize's of its text
    kept = index.bm25.tokens_of(range(n))
    assert kept == [tokenize(f"{p.section}\n{p.text}") for p in index.passages]
    assert sum(map(len, kept)) > 0
