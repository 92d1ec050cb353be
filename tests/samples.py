"""Sample report files made on the fly: a Chinese PDF (reportlab's built-in STSong-Light CID font,
so no font file is needed), a .docx with headings and a table, an HTML page with page furniture."""

from __future__ import annotations

from pathlib import Path


def make_pdf(path: Path, blocks: list[tuple[str, str]], header: str = "拱墅区人民政府工作报告",
             page_numbers: str = "- {n} -", page_breaks: bool = True) -> Path:
    """A text PDF; blocks are ("h", heading) or ("p", paragraph); each heading starts a new page
    when page_breaks. Every page carries a running header and a page-number footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, firstLineIndent=24,
                          wordWrap="CJK", spaceAfter=6)
    head = ParagraphStyle("head", fontName="STSong-Light", fontSize=16, leading=26, spaceAfter=10)

    def furniture(canvas, doc):
        canvas.saveState()
        canvas.setFont("STSong-Light", 9)
        if header:
            canvas.drawCentredString(A4[0] / 2, A4[1] - 40, header)
        if page_numbers:
            canvas.drawCentredString(A4[0] / 2, 30, page_numbers.format(n=doc.page))
        canvas.restoreState()

    story = []
    for kind, text in blocks:
        if kind == "h":
            if story and page_breaks:
                story.append(PageBreak())
            story.append(Paragraph(text, head))
        else:
            story.append(Paragraph(text, body))
    SimpleDocTemplate(str(path), pagesize=A4, title="sample").build(
        story, onFirstPage=furniture, onLaterPages=furniture)
    return path


def make_blank_pdf(path: Path) -> Path:
    """A 'scanned' PDF: a page with only drawn shapes, no text."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    return path


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("政府工作报告", 0)
    d.add_heading("一、过去一年的工作", 1)
    d.add_paragraph("全区经济稳步增长，城中村改造完成拆迁和整治五千五百户。")
    d.add_heading("（一）城市建设", 2)
    d.add_paragraph("地铁五号线站点建设全面开工。")
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["指标", "2016年", "2017年"], ["拆迁户数", "5500户", "4000户"],
                             ["安置房", "100万平方米", "80万平方米"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.add_heading("二、今年的目标", 1)
    d.add_paragraph("全年完成拆迁四千户。")
    d.save(str(path))
    return path


PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>政府工作报告_拱墅区人民政府门户网站</title>
<style>body {{ font-family: SimSun; }}</style>
<script>var menu = "脚本里的字不是正文"; document.write(menu);</script></head>
<body>
<div id="top-nav"><ul><li><a href="/">首页</a></li><li><a href="/gk">政务公开</a></li></ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 政务公开 &gt; 工作报告</div>
<nav>网站导航 机构设置 联系我们</nav>
<div class="main-content">
<h1>政府工作报告</h1>
<p>各位代表：过去一年，全区经济
稳步增长。</p>
<!-- 评论：这不是正文 -->
<h2>一、主要工作</h2>
<p>城中村改造完成拆迁<b>五千五百户</b>，新建安置房一百万平方米。</p>
<h2>二、今年目标</h2>
<p>全年计划拆迁四千户。</p>
</div>
<div class="share-box">分享到微博 微信</div>
<div class="footer">版权所有：拱墅区人民政府 备案号12345</div>
<script>alert("统计代码");</script>
</body></html>"""


def make_html(path: Path, encoding: str = "utf-8") -> Path:
    charset = {"gb18030": "gbk", "big5": "big5"}.get(encoding, encoding)
    path.write_bytes(PAGE.format(charset=charset).encode(encoding))
    return path


# --- scanned pages for the OCR tests and scripts/bench_ocr.py ----------------------------------

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SCAN_TEXT = [
    "全区经济稳步增长，地区生产总值达到九百二十亿元，比上年增长百分之七点五，一般公共预算收入持续提高。",
    "城中村改造完成拆迁和整治五千五百户，新建安置房一百万平方米，地铁五号线站点建设全面开工。",
    "运河财富小镇引进金融企业三十家，税收增长明显，服务业增加值占比持续提高，创新活力不断增强。",
    "五水共治成效明显，河道水质全面改善，完成截污纳管工程四十二处，新建污水管网六十公里。",
    "老旧小区改造惠及居民两万户，加装电梯一百二十台，改善居住条件，群众满意度不断提升。",
    "政务服务改革深入推进，最多跑一次事项办理时间大幅缩短，网上办理比例达到百分之九十。",
    "教育医疗资源不断优化，新建中小学和幼儿园八所，社区卫生服务中心实现街道全覆盖。",
    "安全生产形势总体平稳，完成消防隐患整治三百处，食品药品抽检合格率保持在百分之九十八以上。",
]


def render_scan(paragraphs: list[str], dpi: int = 200, font_pt: float = 12, columns: int = 1,
                title: str | None = None, header: str | None = None, footer: str | None = None,
                width_in: float = 8.27, height_in: float = 11.69):
    """A page image (PIL, grayscale) of Chinese text set with a CJK font, as a scanner would see a
    printed report page: optional centred title, paragraphs with a two-character indent in one or
    two columns, a running header and a page-number footer. Returns (image, the body paragraphs
    that fit, in reading order, title first)."""
    from PIL import Image, ImageDraw, ImageFont

    px = round(font_pt / 72 * dpi)
    width, height = round(width_in * dpi), round(height_in * dpi)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(CJK_FONT, px)
    small = ImageFont.truetype(CJK_FONT, round(px * 0.75))
    margin, lead = round(dpi * 0.9), round(px * 1.6)
    top, bottom = margin, height - margin
    if header:
        draw.text((width / 2, margin * 0.5), header, font=small, fill=0, anchor="mm")
    if footer:
        draw.text((width / 2, height - margin * 0.5), footer, font=small, fill=0, anchor="mm")
    placed = []
    y = top
    if title:
        big = ImageFont.truetype(CJK_FONT, round(px * 1.4))
        draw.text((width / 2, y), title, font=big, fill=0, anchor="mt")
        y += round(px * 1.4 * 2.2)
        placed.append(title)
    gutter = 2 * px
    col_w = (width - 2 * margin - (columns - 1) * gutter) // columns
    per_line = col_w // px
    col, x0 = 0, margin
    for para in paragraphs:
        lines = _wrap(para, per_line)
        if y + lead * len(lines) > bottom:
            col += 1
            if col >= columns:
                break
            x0, y = margin + col * (col_w + gutter), top + (round(px * 1.4 * 2.2) if title else 0)
            if y + lead * len(lines) > bottom:
                break
        for n, line in enumerate(lines):
            draw.text((x0 + (2 * px if n == 0 else 0), y), line, font=font, fill=0)
            y += lead
        placed.append(para)
    return img, placed


def _wrap(text: str, per_line: int) -> list[str]:
    lines, first = [], per_line - 2  # the first line is indented by two characters
    while text:
        n = first if not lines else per_line
        lines.append(text[:n])
        text = text[n:]
    return lines


def degrade(img, seed: int = 0, angle: float = 0.8, blur: float = 1.0, noise: float = 12.0, quality: int = 40):
    """The page as a poor scan: turned slightly, blurred, speckled with noise, saved as a JPEG."""
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(img, np.float32) + np.random.default_rng(seed).normal(0, noise, (img.height, img.width))
    img = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def make_image_pdf(path: Path, images: list, dpi: int = 200) -> Path:
    """An image-only PDF: one page per picture, no text layer (as a scanner writes it)."""
    images = [im.convert("L") for im in images]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


def make_mixed_pdf(path: Path, pages: list, dpi: int = 200) -> Path:
    """A PDF whose pages are text (a list of (kind, text) blocks, as make_pdf takes) or scans (a
    PIL image, drawn over the whole page with no text)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    for page in pages:
        if isinstance(page, list):
            y = A4[1] - 80
            for kind, text in page:
                size = 16 if kind == "h" else 12
                c.setFont("STSong-Light", size)
                per_line = int((A4[0] - 144) // size) - (2 if kind == "p" else 0)
                first = True
                while text:
                    n = per_line if first else per_line + 2
                    c.drawString(72 + (24 if kind == "p" and first else 0), y, text[:n])
                    text, first, y = text[n:], False, y - size * 1.7
                y -= 8
        else:
            buf = io.BytesIO()
            page.convert("L").save(buf, "PNG")
            c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, width=A4[0], height=A4[1])
        c.showPage()
    c.save()
    return path


def char_accuracy(truth: str, got: str) -> float:
    """1 − (character edit distance ÷ length of the truth), whitespace ignored."""
    import re

    a, b = re.sub(r"\s+", "", truth), re.sub(r"\s+", "", got)
    if not a:
        return 1.0 if not b else 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return max(0.0, 1 - previous[-1] / len(a))
