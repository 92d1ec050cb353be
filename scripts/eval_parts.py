"""Every figure on every part of the fixed split (qa/splits.py), held-out parts first: `make eval`.

    python scripts/eval_parts.py [--shared ../shared] [--out eval-report/parts] [--modes hybrid] [--quick] [--choosing]

Parts: blind report questions (data/eval/blind_*.jsonl: written over held-out reports by writers who
never saw the answerer, and never used to choose anything); report questions (data/eval/reports_*.jsonl)
over ../shared/reports, holdout and tune;
CMRC 2018 trial and DRCD test, test and train parts, open-domain over their paragraphs; the dev set
(data/eval/dev.jsonl) over the bundled corpus, holdout and tune. Each run's full report goes to
OUT/<part>/; the summary table is printed and written to OUT/summary.md and OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import evalrun  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.ingest import ingest  # noqa: E402

COLUMNS = [("questions", "n"), ("answer_accuracy", "contains gold"), ("citation_accuracy", "citation supports"),
           ("refused_unanswerable", "unanswerable refused"), ("false_refusals", "answerable wrongly refused"),
           ("exact_match", "EM"), ("f1", "F1"), ("hit@5", "hit@5"), ("answer_ms_p50", "ms p50")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "eval-report" / "parts")
    parser.add_argument("--modes", default="hybrid")
    parser.add_argument("--quick", action="store_true", help="skip the SQuAD train part (the slowest)")
    parser.add_argument("--choosing", action="store_true",
                        help="only the parts one may choose on (reports and dev tune, SQuAD train unless --quick): "
                             "for comparing variants without seeing the held-out parts")
    args = parser.parse_args()

    bundled = Settings.resolve(index_dir=ROOT / "index")
    ingest([ROOT / "data" / "corpus"], bundled)
    reports = sorted((args.shared / "reports").glob("*.txt"))
    report_index = Settings.resolve(index_dir=ROOT / "build" / "eval" / "reports")
    if reports:
        ingest(reports, report_index)
    report_sets = sorted((ROOT / "data" / "eval").glob("reports_*.jsonl"))
    blind_sets = sorted((ROOT / "data" / "eval").glob("blind_*.jsonl"))
    mrc = sorted((args.shared / "mrc").glob("*.json"))

    runs = []  # (name, dataset, settings, squad, part)
    with tempfile.TemporaryDirectory() as tmp:
        merged = Path(tmp) / "reports.jsonl"
        merged.write_text("".join(f.read_text(encoding="utf-8") for f in report_sets), encoding="utf-8")
        if reports and blind_sets:
            runs += [(f.stem.replace("_", " "), f, report_index, False, "holdout") for f in blind_sets]
        if reports and report_sets:
            runs.append(("reports holdout", merged, report_index, False, "holdout"))
        runs += [(f"{f.stem} test", f, bundled, True, "test") for f in mrc]
        runs.append(("dev holdout", ROOT / "data" / "eval" / "dev.jsonl", bundled, False, "holdout"))
        if reports and report_sets:
            runs.append(("reports tune", merged, report_index, False, "tune"))
        if not args.quick:
            runs += [(f"{f.stem} train", f, bundled, True, "train") for f in mrc]
        runs.append(("dev tune", ROOT / "data" / "eval" / "dev.jsonl", bundled, False, "tune"))
        if args.choosing:
            runs = [run for run in runs if run[4] in ("tune", "train")]
        summary = {}
        for name, dataset, settings, squad, part in runs:
            out = args.out / name.replace(" ", "-")
            result = evalrun.run(dataset, settings, args.modes, out_dir=out, squad=squad, part=part)
            summary[name] = {mode: r["overall"] for mode, r in result["modes"].items()}
            print(f"{name}: done in {result['seconds']} s", file=sys.stderr, flush=True)
    table = render(summary)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(table + "\n", encoding="utf-8")
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


def render(summary: dict) -> str:
    lines = ["| part | mode | " + " | ".join(label for _, label in COLUMNS) + " |",
             "| --- | --- |" + " --- |" * len(COLUMNS)]
    for name, modes in summary.items():
        for mode, o in modes.items():
            cells = [f"{o[k]:.3f}" if isinstance(o.get(k), float) else str(o.get(k, "–")) for k, _ in COLUMNS]
            lines.append(f"| {name} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
