"""Benchmark: OCR accuracy and speed on scanned Chinese report pages made here.

    python scripts/bench_ocr.py [--pages 3] [--engines rapidocr,tesseract]

Renders --pages A4 pages of Chinese report text at 200 dpi with a CJK font (WenQuanYi Micro Hei,
12 pt body, title, running header, page number; tests/samples.py), and the same pages degraded as a
poor scan (turned 0.8°, blurred, noise, JPEG quality 40). For each engine: character accuracy of
the body text (1 − edit distance ÷ length; reading order counts), seconds and CPU seconds per
page, pages per second. Then, for the default engine, the whole reader on an image-only PDF of the
clean pages (render, OCR, layout, paragraphs), a two-column page, and pages turned 90°/180°/270°.
Nothing is cached. Prints the figures and saves them to bench/results/bench_ocr.json.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from samples import SCAN_TEXT, char_accuracy, degrade, make_image_pdf, render_scan  # noqa: E402

from qa import ocr as qa_ocr  # noqa: E402


def pages(n: int):
    out = []
    for i in range(n):
        text = SCAN_TEXT[i % len(SCAN_TEXT):] + SCAN_TEXT[:i % len(SCAN_TEXT)]
        img, placed = render_scan(text * 2, title="政府工作报告" if i == 0 else None,
                                  header="拱墅区人民政府工作报告", footer=f"- {i + 1} -")
        out.append((img, "".join(placed)))
    return out


def body(page) -> str:
    """The page's text in reading order, less the header and page number (as the reader drops them)."""
    from qa.formats.image import ocr_lines
    from qa.formats.pdf import PAGE_NUMBER

    lines = ocr_lines(page, 200)
    return "".join(ln.text for ln in lines if "人民政府工作报告" not in ln.text and not PAGE_NUMBER.match(ln.text))


def run_engine(name: str, samples) -> dict:
    try:
        eng = qa_ocr.engine(name)
    except qa_ocr.OcrUnavailable as exc:
        return {"engine": name, "unavailable": str(exc)}
    eng.recognize(samples[0][0])  # warm up (model load, first-call allocations)
    out = {"engine": name, "version": eng.version}
    for kind in ("clean", "degraded"):
        accs, wall, cpu = [], 0.0, 0.0
        for i, (img, truth) in enumerate(samples):
            image = img if kind == "clean" else degrade(img, seed=i)
            t0, c0 = time.perf_counter(), time.process_time()
            page = eng.recognize(image)
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
            accs.append(char_accuracy(truth, body(page)))
        out[kind] = {"accuracy": round(sum(accs) / len(accs), 4), "min_accuracy": round(min(accs), 4),
                     "seconds_per_page": round(wall / len(samples), 2),
                     "pages_per_second": round(len(samples) / wall, 3)}
        if name == "rapidocr":  # tesseract runs as a child process: its CPU time is not ours to see
            out[kind]["cpu_seconds_per_page"] = round(cpu / len(samples), 2)
    return out


def run_reader(samples) -> dict:
    from qa.loading import read_file
    from qa.ocr import Ocr

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = make_image_pdf(Path(tmp) / "scan.pdf", [img for img, _ in samples])
        t0 = time.perf_counter()
        source = read_file(path, Ocr("auto"))
        seconds = time.perf_counter() - t0
        truth = "".join(t for _, t in samples)
        out["image_pdf"] = {"pages": len(samples), "seconds": round(seconds, 2),
                            "pages_per_second": round(len(samples) / seconds, 3),
                            "accuracy": round(char_accuracy(truth, source.text.replace("政府工作报告\n", "政府工作报告", 1)), 4)}
        read_file(path, Ocr("auto", cache=Path(tmp) / "cache"))  # fills the cache
        t0 = time.perf_counter()
        read_file(path, Ocr("auto", cache=Path(tmp) / "cache"))
        out["image_pdf"]["seconds_reread_from_cache"] = round(time.perf_counter() - t0, 2)
    img, placed = render_scan(SCAN_TEXT * 2, columns=2, title="两栏排版的报告")
    page = qa_ocr.engine().recognize(img)
    out["two_columns"] = {"accuracy": round(char_accuracy("".join(placed), body(page)), 4)}
    img, truth = samples[0]
    for angle in (90, 180, 270):
        page = qa_ocr.engine().recognize(img.rotate(angle, expand=True))
        out[f"rotated_{angle}"] = {"detected": page.rotation, "accuracy": round(char_accuracy(truth, body(page)), 4)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--engines", default=",".join(qa_ocr.ENGINES))
    args = parser.parse_args()
    samples = pages(args.pages)
    chars = sum(len(t) for _, t in samples) / len(samples)
    print(f"{args.pages} A4 pages at 200 dpi, {chars:.0f} characters of body text a page")
    results = {"pages": args.pages, "chars_per_page": round(chars), "dpi": qa_ocr.DPI,
               "engines": [run_engine(e, samples) for e in args.engines.split(",")]}
    for r in results["engines"]:
        if "unavailable" in r:
            print(f"{r['engine']}: not installed ({r['unavailable']})")
            continue
        for kind in ("clean", "degraded"):
            f = r[kind]
            cpu = f" ({f['cpu_seconds_per_page']} s CPU)" if "cpu_seconds_per_page" in f else ""
            print(f"{r['engine']:9} {kind:8} accuracy {f['accuracy']:.4f} (worst page {f['min_accuracy']:.4f})  "
                  f"{f['seconds_per_page']:.2f} s/page{cpu}  {f['pages_per_second']:.3f} pages/s")
    results["reader"] = run_reader(samples)
    for k, v in results["reader"].items():
        print(f"reader {k}: {v}")
    out = ROOT / "bench" / "results" / "bench_ocr.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
