"""Benchmark: how fast qa.numbers reads real reports.

    python scripts/bench_numbers.py [--reports ../shared/reports] [--repeat 5]

Reads every .txt under --reports (the 28 real national and provincial reports by default) and
times fold_numerals (run over whole corpora at ingest) and find_quantities over all of them,
best of --repeat runs. Prints characters and UTF-8 megabytes a second, and how many quantities
were found and how many Chinese-numeral quantities fold_numerals rewrote.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.numbers import find_quantities, fold_numerals  # noqa: E402


def best_seconds(fn, texts, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=Path, default=ROOT.parent / "shared" / "reports")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted(args.reports.glob("*.txt"))
    if not files:
        sys.exit(f"no .txt files under {args.reports}; pass --reports DIR")
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    chars = sum(map(len, texts))
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"{len(files)} files, {chars:,} characters, {mb:.2f} MB (UTF-8) under {args.reports}")
    for name, fn in (("fold_numerals", fold_numerals), ("find_quantities", find_quantities)):
        s = best_seconds(fn, texts, args.repeat)
        print(f"{name:16} {s * 1000:7.1f} ms  {chars / s / 1e6:5.2f} M chars/s  {mb / s:5.2f} MB/s")
    found = sum(len(find_quantities(t)) for t in texts)
    changed = sum(a != b for t in texts for a, b in zip(t.splitlines(), fold_numerals(t).splitlines()))
    print(f"{found:,} quantities found; fold_numerals changed {changed:,} lines")


if __name__ == "__main__":
    main()
