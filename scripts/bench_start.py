"""Benchmark: how long a newcomer waits, as whole processes (wall seconds, median of --repeat runs).

    python scripts/bench_start.py [--index index] [--repeat 3] [--before ../other-checkout]

Times `python -c pass` (the interpreter alone), `qa ask` and `qa search` with one question,
`qa ingest data/corpus` on an index that already holds it (what `make run` does first), and
`python app.py` from start to its page answering (the rest of `make run`). With --before, the same
commands are timed in another checkout (say, one at the previous commit) on the same index, and
the ratios printed. The index is built first when missing. Figures go to
bench/results/bench_start.json.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "2017年计划拆迁多少户？"


def timed(cmd, cwd, env) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def app_start(cwd, index, env) -> float:
    """Seconds from `python app.py` to its page answering."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                return time.perf_counter() - t
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t > 300:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(cwd: Path, index: Path, repeat: int, env) -> dict:
    qa = [sys.executable, "-m", "qa.cli"]
    runs = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], cwd, env),
        "qa ask": lambda: timed(qa + ["ask", QUESTION, "--index", str(index)], cwd, env),
        "qa search": lambda: timed(qa + ["search", QUESTION, "--index", str(index)], cwd, env),
        "qa ingest (unchanged corpus)": lambda: timed(qa + ["ingest", "data/corpus", "--index", str(index)], cwd, env),
        "app.py until serving": lambda: app_start(cwd, index, env),
    }
    return {name: round(statistics.median(f() for _ in range(repeat)), 2) for name, f in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout to time the same way, for ratios")
    args = parser.parse_args()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    index = args.index.resolve()
    if not (index / "CURRENT").exists():
        subprocess.run([sys.executable, "-m", "qa.cli", "ingest", "data/corpus", "--index", str(index)], cwd=ROOT,
                       env=env, check=True)
    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    print(f"index {index}: model {manifest['embed_model']}, {os.cpu_count()} CPUs, median of {args.repeat}")
    result = {"model": manifest["embed_model"], "repeat": args.repeat, "after": measure(ROOT, index, args.repeat, env)}
    if args.before:
        result["before"] = measure(args.before.resolve(), index, args.repeat, env)
    for name, after in result["after"].items():
        line = f"{name:32} {after:6.2f} s"
        if args.before:
            before = result["before"][name]
            line += f"   before {before:6.2f} s   ratio {before / after:5.1f}×"
        print(line)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_start.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
