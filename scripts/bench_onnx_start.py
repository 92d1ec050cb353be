"""Benchmark: a whole `qa ask` process with a transformer embedding model, questions through its
ONNX export (qa/onnx_query.py) against through sentence-transformers (median of --repeat runs).

    python scripts/bench_onnx_start.py [--model FOLDER] [--repeat 3]

Without --model it builds the tests' tiny 2-layer BERT (tests/conftest.py). Ingests data/corpus
with the model into a temporary index (which exports it), then times `python -m qa ask` with the
export in the model cache and with an empty one.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="qa-onnx-cache-")
    os.environ["QA_MODEL_CACHE"] = cache
    from qa.config import Settings
    from qa.ingest import ingest

    model = args.model
    if model is None:
        from conftest import _build_tiny_st_model
        model = _build_tiny_st_model(Path(tempfile.mkdtemp(prefix="qa-tiny-model-")))
    index = Path(tempfile.mkdtemp(prefix="qa-onnx-index-")) / "index"
    ingest([ROOT / "data" / "corpus"], Settings(index_dir=index, embed_model=str(model)))
    print(f"model {model}, load average {os.getloadavg()[0]:.1f}")
    for label, folder in (("questions through ONNX", cache), ("through sentence-transformers", tempfile.mkdtemp())):
        runs = []
        for _ in range(args.repeat):
            before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([sys.executable, "-m", "qa", "ask", "2017年计划拆迁多少户？", "--index", str(index)],
                           env={**os.environ, "QA_MODEL_CACHE": folder}, capture_output=True, check=True, cwd=ROOT)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs.append((time.perf_counter() - start,
                         after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))
        print(f"qa ask, {label:32} wall {statistics.median(w for w, _ in runs):5.2f} s   "
              f"CPU {statistics.median(c for _, c in runs):5.2f} s")


if __name__ == "__main__":
    main()
