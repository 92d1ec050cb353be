"""How well report metadata is detected, against tests/data/report_truth.json.

    python scripts/eval_metadata.py [--shared ../shared] [--json] [-v]

Reads each file of the truth under the shared folder, then cleans, splits and describes it exactly
as `qa ingest` does — with no catalog and no overrides, and no embedding — and chunks it. Prints,
for the development group (files looked at while writing the rules) and the check group (the
national reports, looked at only afterwards) separately:

- year right, of reports whose text states a date; full date right, of those stating a full date;
  year_any: year right from any source (file name, inference) of all reports whose date is known;
  year_unnamed: the same with the file renamed to a name without a year ("report.txt"), as a
  scraped page often is
- title right; speaker right, of reports whose text names one; place right; meeting right, of
  reports whose truth has one (stated in the text or not)
- files split into as many reports as they hold (split, per file)
- passages (after chunking) that still hold a menu or boilerplate line
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import loading  # noqa: E402
from qa.chunking import chunk  # noqa: E402
from qa.cleaning import clean  # noqa: E402
from qa.normalize import for_search  # noqa: E402
from qa.places import place_key  # noqa: E402
from qa.reports import documents_from  # noqa: E402

TRUTH = ROOT / "tests" / "data" / "report_truth.json"
# Independent of qa/noise.py's rules on purpose: what a reader would call page furniture.
NOISE = re.compile(r"(?:下载|打印|全屏|收藏)\s+(?:下载|打印|全屏|收藏)|【字号|当前位置[:：]|扫一扫|相关报道[:：]|^来源\s*[:：]|"
                   r"供图[)）]|[（(](?:下转|紧接|上接)|Public domain|^false$|公有领域|维基文库|版权所有|ICP备|^↑", re.M)


def same_text(a: str | None, b: str | None) -> bool:
    fold = lambda s: re.sub(r"[\s\W_]", "", for_search(s or ""))  # noqa: E731
    return bool(a) and fold(a) == fold(b)


def evaluate(shared: Path, truth_path: Path = TRUTH, verbose: bool = False) -> dict:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))["reports"]
    docs, unnamed, noisy = {}, {}, defaultdict(int)
    group_of = {t["file"]: t["group"] for t in truth}
    for file, group in group_of.items():
        path = shared / file
        source = loading.read_file(path)
        text = clean(source.text)
        for doc in documents_from(path.name, text, source.content_hash, {}):
            docs[(file, doc.part)] = doc
            noisy[group] += sum(1 for p in chunk(doc) if NOISE.search(p.text))
        for doc in documents_from("report" + path.suffix, text, source.content_hash, {}):
            unnamed[(file, doc.part)] = doc
    tallies: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for file, group in group_of.items():  # a file split into as many reports as it holds
        found = sum(1 for f, _ in docs if f == file)
        tallies[group]["split"][0] += found == sum(1 for t in truth if t["file"] == file)
        tallies[group]["split"][1] += 1
        if verbose and found != sum(1 for t in truth if t["file"] == file):
            print(f"  miss split   {file}: {found} reports found")
    for t in truth:
        doc = docs.get((t["file"], t["part"]))
        checks = {"title": same_text(doc and doc.title, t["title"]),
                  "place": bool(doc) and place_key(doc.place) == place_key(t["place"])}
        if t["date"]:  # the year, from whatever source (file name, inference), of every report with a known date
            checks["year_any"] = bool(doc and doc.date) and doc.date[:4] == t["date"][:4]
            other = unnamed.get((t["file"], t["part"]))
            checks["year_unnamed"] = bool(other and other.date) and other.date[:4] == t["date"][:4]
        if t["date_stated"]:
            checks["year"] = bool(doc and doc.date) and doc.date[:4] == t["date"][:4]
            if len(t["date"]) == 10:
                checks["date"] = bool(doc) and doc.date == t["date"]
        if t["speaker_stated"]:
            checks["speaker"] = same_text(doc and doc.speaker, t["speaker"])
        if t.get("meeting"):  # the meeting it was given at, stated in its text or not
            checks["meeting"] = same_text(doc and doc.meeting, t["meeting"])
        for name, ok in checks.items():
            tallies[t["group"]][name][0] += ok
            tallies[t["group"]][name][1] += 1
            if verbose and not ok:
                seen = unnamed.get((t["file"], t["part"])) if name == "year_unnamed" else doc
                got = getattr(seen, name if not name.startswith("year") else "date", None) if seen else "(missing)"
                print(f"  miss {name:7} {t['file']}#{t['part']}: got {got!r}, want {t.get(name, t['date'])!r}")
    return {group: {**{name: {"right": r, "of": n, "share": round(r / n, 3) if n else None}
                       for name, (r, n) in sorted(checks.items())},
                    "noisy_passages": noisy[group], "reports": sum(1 for t in truth if t["group"] == group)}
            for group, checks in tallies.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="folder holding reports/ and corpus/")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    if not (args.shared / "reports").is_dir():
        print(f"eval_metadata: no reports under {args.shared}; pass --shared DIR", file=sys.stderr)
        return 2
    results = evaluate(args.shared, verbose=args.verbose)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for group, figures in results.items():
        print(f"{group} ({figures['reports']} reports)")
        for name in ("year", "date", "title", "speaker", "place", "meeting", "year_any", "year_unnamed", "split"):
            f = figures.get(name)
            if f:
                print(f"  {name:8} {f['share']:.3f}  ({f['right']} of {f['of']})")
        print(f"  noisy passages: {figures['noisy_passages']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
