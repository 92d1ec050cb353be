"""Benchmark: how many PDF pages a second ingest reads, on a Chinese PDF made here.

    python scripts/bench_pdf.py [--pages 100] [--repeat 3]

Makes a PDF of --pages A4 pages of Chinese report text (reportlab's built-in STSong-Light font;
running header, page-number footer, headings, paragraphs across page breaks), then times
1. reading it (qa.loading.read_file: PDF text per page, headers and footers removed, lines joined),
2. reading + cleaning + splitting + chunking (everything before embedding),
3. `qa ingest` of it as a whole process into a fresh index (embedding and indexing included;
   with no embedding model installed, that includes training the corpus fallback model),
4. `qa ingest` of it into an existing index (the model is there already: read, clean, chunk,
   embed, index).
Prints the figures and saves them to bench/results/bench_pdf.json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "全区经济稳步增长，地区生产总值达到{n}亿元，比上年增长百分之七点五。",
    "城中村改造完成拆迁和整治{n}户，新建安置房一百万平方米，地铁五号线站点建设全面开工。",
    "运河财富小镇引进金融企业{n}家，税收增长明显，服务业增加值占比持续提高。",
    "五水共治成效明显，河道水质全面改善，完成截污纳管工程{n}处。",
    "老旧小区改造惠及居民{n}户，加装电梯改善居住条件，群众满意度不断提升。",
    "政务服务改革深入推进，最多跑一次事项办理时间大幅缩短，网上办理比例达到百分之{n}。",
]


def make_pdf(path: Path, pages: int) -> int:
    """Make a PDF of at least `pages` pages; return how many it has."""
    per_section = 10
    while True:
        made = _make_pdf(path, pages, per_section)
        if made >= pages:
            return made
        per_section = int(per_section * pages / made) + 1


def _make_pdf(path: Path, pages: int, per_section: int) -> int:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, firstLineIndent=24, wordWrap="CJK")
    head = ParagraphStyle("h", fontName="STSong-Light", fontSize=16, leading=28)

    def furniture(canvas, doc):
        canvas.setFont("STSong-Light", 9)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 40, "拱墅区人民政府工作报告（基准测试）")
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")

    numerals = "一二三四五六七八九十"
    story, n = [], 0
    # about 1,100 characters a page: 5 paragraphs of ~4 sentences, a heading every ~2 pages
    for section in range(pages // 2 + 1):
        story.append(Paragraph(f"{numerals[section % 10]}、第{section + 1}部分的工作", head))
        for _ in range(per_section):
            text = "".join(SENTENCES[(n + k) % len(SENTENCES)].format(n=100 + n + k) for k in range(4))
            story.append(Paragraph(text, body))
            n += 4
    doc = SimpleDocTemplate(str(path), pagesize=A4)
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return doc.page


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100, help="about how many pages to make")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs for the in-process timings")
    args = parser.parse_args()

    from qa.chunking import chunk
    from qa.cleaning import clean_pages
    from qa.loading import read_file
    from qa.reports import documents_from

    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "bench.pdf"
        pages = make_pdf(pdf, args.pages)
        read_s, text_s = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            source = read_file(pdf)
            t1 = time.perf_counter()
            text, starts = clean_pages([p.text for p in source.pages], [p.continues for p in source.pages])
            passages = [p for d in documents_from("bench.pdf", text, source.content_hash, {}, starts)
                        for p in chunk(d)]
            t2 = time.perf_counter()
            read_s.append(t1 - t0)
            text_s.append(t2 - t0)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(pdf), "--index", str(Path(tmp) / "index"),
                              "--json"], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        ingest_wall = time.perf_counter() - t0
        summary = json.loads(out.stdout)
        small = Path(tmp) / "small.txt"
        small.write_text("".join(SENTENCES).format(n=1), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(small), "--index", str(Path(tmp) / "index2"),
                        "--json"], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(pdf), "--index", str(Path(tmp) / "index2"),
                              "--json"], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        add_wall = time.perf_counter() - t0
        added = json.loads(out.stdout)

    result = {
        "pages": pages, "characters": len(text), "passages": len(passages), "model": summary["model"],
        "read_seconds": round(min(read_s), 3), "read_pages_per_second": round(pages / min(read_s), 1),
        "read_clean_chunk_seconds": round(min(text_s), 3),
        "read_clean_chunk_pages_per_second": round(pages / min(text_s), 1),
        "ingest_seconds_inside": summary["seconds"],
        "ingest_pages_per_second_inside": round(pages / summary["seconds"], 1),
        "ingest_process_seconds": round(ingest_wall, 2),
        "ingest_process_pages_per_second": round(pages / ingest_wall, 1),
        "add_to_index_seconds_inside": added["seconds"],
        "add_to_index_pages_per_second_inside": round(pages / added["seconds"], 1),
        "add_to_index_process_seconds": round(add_wall, 2),
        "add_to_index_process_pages_per_second": round(pages / add_wall, 1),
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_pdf.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    for k, v in result.items():
        print(f"{k:36} {v}")


if __name__ == "__main__":
    main()
