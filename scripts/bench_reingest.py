"""Re-ingest one changed report into a 10k-passage index, with one or more copies of the code in
turn (before/after under the same load): README, "Scale", the one-report-changed row.

    python scripts/bench_reingest.py [--size 10000] [--rounds 3] [--work DIR] [CODE_ROOT ...]

Builds the corpus as scripts/bench_scale.py does (seed 0) and its index once, with this checkout,
in DIR (default: a temporary folder; an index already in DIR is used again). Then, each round, for
each code root given (default: this checkout): a fresh copy of the corpus and the index, the
middle report given a paragraph (as bench_scale.py changes it), and `python -m qa ingest --json`
run from that root, timed as bench_scale.py times a child: process wall and CPU seconds, and the
seconds inside ingest() that the command reports. Prints each run, then the medians and the load
average at the start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import ROOT, make_corpus, run_measured  # noqa: E402

PARAGRAPH = "新建口袋公园四十二个，引进高层次人才二百五十六名。\n"


def env_for(root: Path) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}


def once(work: Path, root: Path, run: int) -> dict:
    """One re-ingest of the changed report into a fresh copy of the built index, by the code in root."""
    folder = work / f"run-{run}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(work / "corpus", corpus)
    shutil.copytree(work / "index", index)
    reports = sorted(corpus.glob("*.txt"))
    changed = reports[len(reports) // 2]
    changed.write_text(changed.read_text(encoding="utf-8") + PARAGRAPH, encoding="utf-8")
    measured = run_measured([sys.executable, "-m", "qa", "ingest", str(corpus), "--index", str(index), "--json"],
                            env_for(root), cwd=root)  # `-m qa` takes the package in its working folder
    shutil.rmtree(folder, ignore_errors=True)
    summary = json.loads(measured["stdout"])
    if summary["updated"] != [f"corpus/{changed.name}"]:
        raise RuntimeError(f"re-ingest did not update just {changed.name}: {measured['stdout'][:300]}")
    return {"root": str(root), "wall_s": measured["wall_s"], "cpu_s": measured["cpu_s"],
            "inside_s": summary["seconds"], "phases": summary.get("phases", {})}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("roots", nargs="*", type=Path, default=[ROOT], help="code roots to compare (default: this one)")
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, help="folder for the corpus and index (kept, used again)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-reingest-"))
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "index" / "CURRENT").is_file():
        (work / "corpus").mkdir(exist_ok=True)
        make_corpus(work / "corpus", args.size)
        run_measured([sys.executable, "-m", "qa", "ingest", str(work / "corpus"), "--index", str(work / "index"),
                      "--json"], env_for(ROOT))
    start_load = os.getloadavg()
    runs = []
    for r in range(args.rounds):
        for n, root in enumerate(args.roots):
            runs.append(once(work, root.resolve(), r * len(args.roots) + n))
            print(json.dumps(runs[-1]), file=sys.stderr)
    end_load = os.getloadavg()
    print(f"load average {start_load[0]:.2f} {start_load[1]:.2f} at the start, "
          f"{end_load[0]:.2f} {end_load[1]:.2f} at the end; medians of {args.rounds} runs:")
    for root in args.roots:
        mine = [r for r in runs if r["root"] == str(root.resolve())]
        med = {k: statistics.median(r[k] for r in mine) for k in ("wall_s", "cpu_s", "inside_s")}
        print(f"{root}: process wall {med['wall_s']:.2f} s (CPU {med['cpu_s']:.2f} s), inside ingest() "
              f"{med['inside_s']:.2f} s; inside each run: " + ", ".join(f"{r['inside_s']:.2f}" for r in mine))


if __name__ == "__main__":
    main()
