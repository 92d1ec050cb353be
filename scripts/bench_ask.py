"""Benchmark: ingest seconds for a corpus, and `qa ask` latency per question in batch mode.

    python scripts/bench_ask.py [--corpus data/corpus] [--questions data/eval/dev.jsonl]

Ingests into a fresh temporary index (as `qa ingest` does), then times
`qa ask --json --questions FILE` as a whole process and per question (timings_ms). Prints the
figures and saves them to bench/results/bench_ask.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env):
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True)
    return out.stdout, time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="data/corpus")
    parser.add_argument("--questions", default="data/eval/dev.jsonl")
    parser.add_argument("--index", help="ignored: the benchmark always builds a fresh index")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as index:
        summary, ingest_wall = run("ingest", args.corpus, "--index", index, "--json", env=env)
        ingest = json.loads(summary)
        answers, ask_wall = run("ask", "--json", "--questions", args.questions, "--index", index, env=env)
    totals = [json.loads(line)["timings_ms"]["total"] for line in answers.splitlines()]
    result = {
        "corpus": args.corpus, "documents": ingest["documents"], "passages": ingest["passages"],
        "model": ingest["model"], "ingest_seconds_inside": ingest["seconds"],
        "ingest_process_seconds": round(ingest_wall, 2),
        "questions": len(totals), "ask_process_seconds": round(ask_wall, 2),
        "ask_ms_per_question_median": round(statistics.median(totals), 2),
        "ask_ms_per_question_p95": round(sorted(totals)[int(0.95 * (len(totals) - 1))], 2),
        "ask_process_ms_per_question": round(1000 * ask_wall / len(totals), 1),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_ask.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    for k, v in result.items():
        print(f"{k:32} {v}")


if __name__ == "__main__":
    main()
