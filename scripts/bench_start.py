"""Benchmark: how long a newcomer waits, as whole processes (wall and CPU seconds, median of --repeat runs).

    python scripts/bench_start.py [--index index] [--repeat 3] [--before ../other-checkout]

Times `python -c pass` (the interpreter alone), `qa ask` and `qa search` with one question,
`qa ingest data/corpus` on an index that already holds it, `python app.py` from start to its page
answering, and `make run` on an unchanged corpus: `python app.py --corpus data/corpus` until its
page answers (in a checkout whose app.py has no --corpus, `qa ingest` then `app.py`, as its
`make run` did). With --before, the same
commands are timed in another checkout (say, one at the previous commit) on the same index, and
the ratios printed. The index is built first when missing. Figures go to
bench/results/bench_start.json.

CPU is user + system seconds of the process: on a busy machine wall time waits for other
processes, CPU time much less, so CPU is the better guess of the wall time on an idle one (these
commands use one core). The load average is printed before and after.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "2017年计划拆迁多少户？"


def timed(cmd, cwd, env) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of cmd."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{cmd} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _cpu_so_far(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def app_start(cwd, index, env, corpus=None) -> tuple[float, float]:
    """(wall, CPU) seconds from `python app.py [--corpus corpus]` to its page answering."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    extra = ["--corpus", corpus] if corpus else []
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port), *extra], cwd=cwd,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                return time.perf_counter() - t, _cpu_so_far(proc.pid)
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t > 120:
                    log.seek(0)
                    raise RuntimeError(f"the app in {cwd} did not start:\n{log.read()[-2000:].decode(errors='replace')}")
                time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def commands(cwd: Path, index: Path, env) -> dict:
    qa = [sys.executable, "-m", "qa.cli"]
    runs = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], cwd, env),
        "qa ask": lambda: timed(qa + ["ask", QUESTION, "--index", str(index)], cwd, env),
        "qa search": lambda: timed(qa + ["search", QUESTION, "--index", str(index)], cwd, env),
        "qa ingest (unchanged corpus)": lambda: timed(qa + ["ingest", "data/corpus", "--index", str(index)], cwd, env),
        "app.py until serving": lambda: app_start(cwd, index, env),
    }
    if "--corpus" in (cwd / "app.py").read_text():
        runs["make run (unchanged)"] = lambda: app_start(cwd, index, env, "data/corpus")
    return runs


def measure(checkouts: dict[str, Path], index: Path, repeat: int, env) -> dict:
    """{checkout: {command: {"wall", "cpu"}}}, medians; the checkouts take turns, so that a change of
    load on the machine falls on both."""
    runs = {name: commands(cwd, index, env) for name, cwd in checkouts.items()}
    seen = {name: {cmd: [] for cmd in r} for name, r in runs.items()}
    for _ in range(repeat):
        for cmd in runs[next(iter(runs))]:
            for name, r in runs.items():
                if cmd in r:
                    seen[name][cmd].append(r[cmd]())
    result = {}
    for name, cmds in seen.items():
        result[name] = {cmd: {"wall": round(statistics.median(w for w, _ in xs), 2),
                              "cpu": round(statistics.median(c for _, c in xs), 2)} for cmd, xs in cmds.items()}
        if "make run (unchanged)" not in result[name]:  # its make run: qa ingest, then app.py
            both = [result[name]["qa ingest (unchanged corpus)"], result[name]["app.py until serving"]]
            result[name]["make run (unchanged)"] = {k: round(sum(x[k] for x in both), 2) for k in ("wall", "cpu")}
    return result


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
    load = os.getloadavg()[0]
    checkouts = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    result = {"model": manifest["embed_model"], "repeat": args.repeat, "load_before": load,
              **measure(checkouts, index, args.repeat, env), "load_after": os.getloadavg()[0]}
    print(f"load average {load:.1f} before, {result['load_after']:.1f} after")
    for name, after in result["after"].items():
        line = f"{name:30} wall {after['wall']:6.2f} s  CPU {after['cpu']:6.2f} s"
        if args.before:
            before = result["before"][name]
            line += (f"   before: wall {before['wall']:6.2f} s  CPU {before['cpu']:6.2f} s"
                     f"   ratio wall {before['wall'] / after['wall']:4.1f}×  CPU {before['cpu'] / after['cpu']:4.1f}×")
        print(line)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_start.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
