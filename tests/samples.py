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
