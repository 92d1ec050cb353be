"""The report questions asked again of the same reports in the forms users bring them: `make eval-variants`.

    python scripts/eval_variants.py [--shared ../shared] [--part tune] [--out eval-report/variants]

Each variant rewrites the reports of one part of the fixed split (qa/splits.py; tune by default, so
that what it shows may be chosen on) and their questions, indexes them apart and asks every
question again:

- as found: the files as they are;
- renamed: the files named report-00.txt, report-01.txt, …: nothing in a name to read a date or
  place from (a scraped page's name seldom has them);
- years moved: in the provincial reports, every year written in digits three years back, in the
  reports, their questions and the answers, and the files renamed without their year (a 2022
  report, a 2021 review). The national reports stay as found: their meetings date them (the
  calendar of the national congresses), which moving their years would contradict;
- one line: each report's line breaks removed (a dump that lost them);
- wrapped: each paragraph broken every 38 characters, wherever that falls, and a page number
  ("- 3 -") every 40 lines (text copied out of a PDF);
- pdf: each report typeset as a PDF (A4, a running header with its title, "- 3 -" page numbers;
  reportlab's built-in Song font, no font file needed), read back by the PDF reader;
- web page: each report as a scraped HTML page, its paragraphs (as cleaning reads them from the
  file) in <p>, with a menu, a sidebar and a footer around them;
- traditional: the reports in traditional characters, the questions as written;
- elsewhere: every question asked of other reports (the bundled corpus, a district's reports of
  2016–2020), none of which answers it: all of them should be refused.

A figure that falls from "as found" to a variant is something the answerer knows only of the form
the bundled reports happen to have. Prints the table, and writes it to OUT/summary.md.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import evalrun, splits  # noqa: E402
from qa.cleaning import clean  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.ingest import ingest  # noqa: E402
from scripts.eval_parts import render  # noqa: E402

YEAR = re.compile(r"(?<!\d)(19\d\d|20[0-2]\d)(?!\d)")
MENU = ("首页 | 政务公开 | 新闻中心 | 政策文件 | 互动交流 | 办事服务<br>当前位置：首页 > 政务公开 > 政府工作报告<br>"
        "【字体：大 中 小】 打印本页 关闭窗口 分享到：微信 微博")
SIDEBAR = "<ul><li>热点专题</li><li>领导信箱</li><li>预算公开</li><li>政策解读</li></ul>"
FOOTER = ("相关链接：国务院 | 国家发展改革委 | 国家统计局<br>主办单位：人民政府办公厅 版权所有 备案号：京ICP备05070218号<br>"
          "联系我们 | 网站地图 | 隐私声明 浏览次数：12345")


def moved_years(text: str, shift: int = -3) -> str:
    return YEAR.sub(lambda m: str(int(m.group(1)) + shift), text)


def wrapped(text: str, width: int = 38, page: int = 40) -> str:
    lines = [para[i:i + width] for para in text.splitlines() for i in range(0, len(para), width)]
    return "\n".join(ln + (f"\n- {k // page + 1} -" if k % page == page - 1 else "") for k, ln in enumerate(lines))


def typeset(path: Path, text: str) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, firstLineIndent=24,
                          wordWrap="CJK", spaceAfter=6)
    title = text.split("\n", 1)[0][:40]

    def furniture(canvas, doc):
        canvas.saveState()
        canvas.setFont("STSong-Light", 9)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 40, title)
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")
        canvas.restoreState()

    story = [Paragraph(html.escape(line), body) for line in text.splitlines()]
    SimpleDocTemplate(str(path), pagesize=A4).build(story, onFirstPage=furniture, onLaterPages=furniture)


def web_page(title: str, text: str) -> str:
    """The file's paragraphs, not its lines: the national reports are Wikisource dumps whose lines
    are cut at link texts, which a web page holds inside one <p>."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in clean(text).splitlines())
    return (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}_政府门户网站</title></head><body>"
            f"<div class='nav'>{MENU}</div><div class='content'>{paragraphs}</div>"
            f"<div class='side'>{SIDEBAR}</div><div class='footer'>{FOOTER}</div></body></html>")


def rewrite(name: str, path: Path, n: int, out: Path) -> tuple[str, bool]:
    """Write report `path` (the n-th) as variant `name` into `out`: its new file name, and
    whether its years moved."""
    text, stem = path.read_text(encoding="utf-8"), path.stem
    year = YEAR.search(stem)
    moved = name == "years moved" and bool(year) and stem.startswith("provincial")
    if name == "renamed":
        stem = f"report-{n:02d}"
    elif moved:
        stem, text = f"{stem[:year.start()]}{n:02d}{stem[year.end():]}", moved_years(text)
    elif name == "one line":
        text = re.sub(r"\s*\n\s*", "", text)
    elif name == "wrapped":
        text = wrapped(clean(text))
    elif name == "pdf":
        typeset(out / f"{stem}.pdf", clean(text))
        return f"{stem}.pdf", False
    elif name == "web page":
        (out / f"{stem}.html").write_text(web_page(stem, text), encoding="utf-8")
        return f"{stem}.html", False
    elif name == "traditional":
        import opencc

        text = opencc.OpenCC("s2t").convert(text)
    (out / f"{stem}.txt").write_text(text, encoding="utf-8")
    return f"{stem}.txt", moved


def variant(name: str, reports: list[Path], rows: list[dict], out: Path) -> list[dict]:
    """Write the reports of one variant into `out`; return their questions, rewritten to match."""
    out.mkdir(parents=True, exist_ok=True)
    if name == "elsewhere":
        for path in sorted((ROOT / "data" / "corpus").glob("*")):  # the reports and their catalog.json
            (out / path.name).write_bytes(path.read_bytes())
        return [{**r, "answerable": False, "answers": [], "evidence": "", "doc": "", "type": "unanswerable"} for r in rows]
    renamed, moved = {}, set()
    for n, path in enumerate(reports):
        renamed[path.name], years_moved = rewrite(name, path, n, out)
        if years_moved:
            moved.add(path.name)

    def edit(row, text):
        return moved_years(text) if row["about"] in moved else text

    return [{**r, "question": edit(r, r["question"]), "answers": [edit(r, a) for a in r["answers"]],
             "evidence": edit(r, r.get("evidence") or ""),
             "doc": renamed.get(r.get("doc"), r.get("doc")), "about": renamed.get(r["about"], r["about"])}
            for r in rows]


VARIANTS = ("as found", "renamed", "years moved", "one line", "wrapped", "pdf", "web page", "traditional", "elsewhere")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--part", choices=splits.PARTS, default="tune")
    parser.add_argument("--out", type=Path, default=ROOT / "eval-report" / "variants")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma separated, of: " + ", ".join(VARIANTS))
    args = parser.parse_args()
    chosen = [v.strip() for v in args.variants.split(",")]
    if unknown := set(chosen) - set(VARIANTS):
        parser.error(f"unknown variant {sorted(unknown)}: choose from {', '.join(VARIANTS)}")

    rows = splits.select([json.loads(line) for f in sorted((ROOT / "data" / "eval").glob("reports_*.jsonl"))
                          for line in f.read_text(encoding="utf-8").splitlines() if line.strip()], args.part)
    abouts = {r["about"] for r in rows}
    reports = [p for p in sorted((args.shared / "reports").glob("*.txt")) if p.name in abouts]
    if not reports:
        sys.exit(f"no reports of the {args.part} part in {args.shared / 'reports'}")
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            folder = Path(tmp) / name.replace(" ", "-")
            questions = variant(name, reports, rows, folder / "reports")
            dataset = folder / "questions.jsonl"
            dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in questions), encoding="utf-8")
            settings = Settings.resolve(index_dir=folder / "index")
            ingest([folder / "reports"], settings)
            result = evalrun.run(dataset, settings, "hybrid", out_dir=args.out / folder.name)
            summary[f"{args.part}: {name}"] = {m: r["overall"] for m, r in result["modes"].items()}
            print(f"{name}: done in {result['seconds']} s", file=sys.stderr, flush=True)
    table = render(summary)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
