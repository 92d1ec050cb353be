"""PDF files, read with pypdfium2 (PDFium: fast, and good with CJK fonts); scanned pages by OCR.

Per page: the text lines in PDFium's reading order, with their boxes. A page with no text layer,
or with a picture holding far less text than its area suggests (a scanned page, a table pasted as
a picture), is rendered and read by OCR (qa/ocr.py; `--ocr auto|always|never`): its lines, in
reading order for one or two columns, take the place of the text layer's, or of the picture's.
Running headers and footers (lines set apart at the top or bottom of a page and repeated, numbers
aside, at the same height on many pages) and page-number lines are dropped; lines that wrap inside
a paragraph are joined, using the layout (a line that reaches the right margin, followed by one
that is not indented, goes on, across pages too).
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from dataclasses import dataclass

from qa.cleaning import heading_level
from qa.formats import require
from qa.loading import LoadError, Page
from qa.ocr import DPI, Ocr, OcrUnavailable

PAGE_NUMBER = re.compile(
    r"^(?:[-–—_·•\s]*\d{1,4}[-–—_·•\s]*"                          # 3, - 3 -, — 3 —
    r"|第\s*[\d一二三四五六七八九十百零〇]{1,6}\s*页(?:\s*[/／,，]?\s*共\s*\d{1,4}\s*页)?"  # 第3页, 第3页 共9页
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"                                  # 3/100
    r"|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?)$",        # Page 3 of 9
    re.IGNORECASE)
# Letter-spaced text comes out as "总 书 记"; between Chinese characters a space is never meant.
CJK = "\u4e00-\u9fff\u3001-\u303f\uff01-\uff60"
CJK_SPACE = re.compile(rf"(?<=[{CJK}]) +(?=[{CJK}])")
# Some fonts map their glyphs to look-alike code points: Kangxi radicals ("⼀⾏" for "一行"),
# CJK compatibility ideographs, Latin ligatures. Folded to the ordinary characters (NFKC), and
# only those: NFKC of the whole text would also turn "，" into ",".
LOOKALIKES = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\ufb00-\ufb06]")
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running headers/footers
# A page of 12 pt text holds about one character per 500 pt² of its area; a picture with less than a
# tenth of that in text over it (and at least 5% of the page) is a scan to OCR.
PT2_PER_CHAR = 500
SCAN_TEXT_SHARE = 0.1
MIN_PICTURE_SHARE = 0.05


@dataclass
class Line:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    # for OCR'd lines: the left and right edges of the line's column (two-column pages have two),
    # and that the line came from OCR (its height on the page is not exact)
    margins: tuple[float, float] | None = None
    ocr: bool = False

    @property
    def height(self) -> float:
        return self.top - self.bottom


def read(data: bytes, ocr: Ocr | None = None) -> tuple[str, str, list[Page]]:
    pdfium = require("pypdfium2", "pypdfium2", "PDF files")
    ocr = ocr or Ocr()
    if b"%PDF-" not in data[:1024]:
        raise LoadError("not a PDF file (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        raise LoadError("truncated PDF (no %%EOF at the end): copy or download it again")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise LoadError("encrypted PDF: save an unprotected copy first") from None
        raise LoadError(f"unreadable PDF ({exc})") from None
    try:
        pages, scans = [], []
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                lines, regions = _page_lines(page, ocr.mode)
            finally:
                page.close()
            pages.append(lines)
            scans.append(regions)
        confidence = _ocr_pages(pdf, pages, scans, ocr)
    finally:
        pdf.close()
    if not any(pages):
        if ocr.mode == "never":
            raise LoadError("no text layer (scanned PDF?): ingest it with --ocr auto to read it by OCR")
        raise LoadError("no text found, not even by OCR (blank pages?)")
    _drop_running_lines(pages)
    out = _paragraphs(pages)
    for page, conf in zip(out, confidence):
        page.ocr = conf
    return "\n".join(p.text for p in out), "pdf", out


def _ocr_pages(pdf, pages: list[list[Line]], scans: list, ocr: Ocr) -> list[float | None]:
    """OCR what _page_lines marked: a whole page (its lines replace the text layer's) or the
    pictures on it (their lines go in where the picture is). Returns each page's OCR confidence."""
    from qa.formats.image import ocr_lines

    confidence: list[float | None] = [None] * len(pages)
    todo = [i for i, regions in enumerate(scans) if regions]
    if not todo:
        return confidence
    bar = ocr.bar(len(todo), "扫描页")
    try:
        for i in todo:
            page = pdf[i]
            try:
                image = page.render(scale=DPI / 72, grayscale=True).to_pil()
                height = page.get_height()
            finally:
                page.close()
            found, weights = [], []
            for region in scans[i]:
                if region == "page":
                    read = ocr.recognize(image)
                    found = ocr_lines(read, DPI)
                    pages[i] = found
                else:
                    left, bottom, right, top = region
                    s = DPI / 72
                    crop = image.crop((round(left * s), round((height - top) * s),
                                       round(right * s), round((height - bottom) * s)))
                    read = ocr.recognize(crop)
                    lines = ocr_lines(read, DPI, left, top)
                    pages[i] = _insert(pages[i], lines, top)
                    found += lines
                if read.confidence is not None:
                    chars = sum(len(ln.text) for ln in read.lines)
                    weights.append((read.confidence, chars))
            if weights:
                confidence[i] = round(sum(c * n for c, n in weights) / sum(n for _, n in weights), 4)
            bar.update(1)
    except OcrUnavailable as exc:
        raise LoadError(f"{len(todo)} scanned page(s) need OCR: {exc}") from None
    finally:
        bar.close()
    return confidence


def _insert(lines: list[Line], picture: list[Line], top: float) -> list[Line]:
    """The text lines of a page with a picture's OCR'd lines put in before the first text line
    below the picture's top (text above it stays first)."""
    at = next((n for n, ln in enumerate(lines) if ln.top <= top and ln.height > 0), len(lines))
    return lines[:at] + picture + lines[at:]


def properties(data: bytes) -> dict[str, str]:
    """The file's own title and subject (document information), when it has them."""
    pdfium = require("pypdfium2", "pypdfium2", "PDF files")
    try:
        pdf = pdfium.PdfDocument(data)
        try:
            meta = pdf.get_metadata_dict(skip_empty=True)
        finally:
            pdf.close()
    except Exception:  # noqa: BLE001 - properties are a bonus; read() has already said what is wrong
        return {}
    return {k.lower(): v.strip() for k, v in meta.items() if k in ("Title", "Subject") and v.strip()}


def _page_lines(page, mode: str = "auto") -> tuple[list[Line], list]:
    """The page's text lines in PDFium's reading order, each with the box of its characters, and
    what on the page needs OCR: ["page"], the (left, bottom, right, top) of scanned pictures, or [].

    PDFium's own text (with its line breaks) is split into lines, and the boxes of a line's first,
    middle and last characters give its position. Text asked for by rectangle instead picks up
    characters of the neighbouring lines when the lines are set tight.
    """
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count > 0 else ""
        # PDFium counts UTF-16 units: a character beyond the BMP takes two indexes
        index, units = [], 0
        for ch in text:
            index.append(units)
            units += 2 if ord(ch) > 0xFFFF else 1
        geometry = units == count
        lines: list[Line] = []
        for m in re.finditer(r"[^\r\n]+", text):
            raw = m.group()
            body = raw.strip()
            if not body:
                continue
            first = m.start() + (len(raw) - len(raw.lstrip()))
            last = m.start() + len(raw.rstrip()) - 1
            if geometry:
                boxes = [textpage.get_charbox(index[i], loose=True) for i in (first, (first + last) // 2, last)]
                left, right = boxes[0][0], boxes[2][2]
                bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
            else:  # no positions: every line is its own paragraph, cleaning joins what it can
                left = bottom = right = top = 0.0
            indent = raw[:len(raw) - len(raw.lstrip())]
            lines.append(Line(indent + CJK_SPACE.sub("", fold_lookalikes(body)), left, bottom, right, top))
        return lines, _scans(page, textpage, lines, mode)
    finally:
        textpage.close()


def _scans(page, textpage, lines: list[Line], mode: str) -> list:
    """What of the page to OCR. `always`: the page. `auto`: a page without text that draws
    anything (a scan, or text drawn as outlines); else each picture of at least 5% of the page
    with far less text over it than its area suggests. A picture covering most of the page
    means the page."""
    if mode == "never":
        return []
    if mode == "always" or not lines:
        return ["page"] if mode == "always" or _draws_anything(page) else []
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    regions = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        left, bottom, right, top = max(0, left), max(0, bottom), min(width, right), min(height, top)
        area = (right - left) * (top - bottom)
        if area < MIN_PICTURE_SHARE * width * height:
            continue
        over = len(re.sub(r"\s", "", textpage.get_text_bounded(left, bottom, right, top)))
        if over < SCAN_TEXT_SHARE * area / PT2_PER_CHAR:
            regions.append((left, bottom, right, top))
    if sum((r - l) * (t - b) for l, b, r, t in regions) > 0.8 * width * height:
        return ["page"]
    return regions


def _draws_anything(page) -> bool:
    for _ in page.get_objects(max_depth=1):
        return True
    return False


def fold_lookalikes(text: str) -> str:
    return LOOKALIKES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _key(line: Line) -> tuple[str, int]:
    """A running header is at the same height on every page and differs only in its numbers
    (a scanned page's is where the scanner put it: its edge of the page says enough)."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text)), -1 if line.ocr else round(line.top / 4)


def _drop_running_lines(pages: list[list[Line]]) -> None:
    """Remove page numbers and lines repeated at the top or bottom of most pages, in place."""
    every = [ln for lines in pages for ln in lines]
    size = statistics.median(ln.height for ln in every) if every else 0
    edges = [_edge_lines(lines, size) for lines in pages]
    counts: dict[tuple[str, int], int] = {}
    for edge in edges:
        for key in {_key(ln) for ln in edge}:
            counts[key] = counts.get(key, 0) + 1
    # on half the pages, or on 4 of a long file: odd and even pages, or each chapter, may have their own
    need = max(2, min(4, math.ceil(0.5 * len(pages))))
    running = {k for k, n in counts.items() if n >= need}
    for lines, edge in zip(pages, edges):
        drop = {id(ln) for ln in edge if _key(ln) in running or PAGE_NUMBER.match(ln.text.strip())}
        lines[:] = [ln for ln in lines if id(ln) not in drop]


def _edge_lines(lines: list[Line], size: float) -> list[Line]:
    """Lines that may be a running header or footer: at most EDGE_LINES at the very top or bottom
    of the page, set apart from the body by a gap wider than a line."""
    by_position = sorted(lines, key=lambda ln: -ln.top)
    if len(by_position) <= EDGE_LINES:  # a page with just a page number, or a header and nothing else
        return by_position
    out = []
    for ordered in (by_position, by_position[::-1]):
        block = ordered[:1]
        for ln in ordered[1:]:
            gap = block[-1].bottom - ln.top if ordered is by_position else ln.bottom - block[-1].top
            if gap > size:
                if len(block) <= EDGE_LINES:
                    out += block
                break
            block.append(ln)
            if len(block) > EDGE_LINES + 2:  # side-by-side pieces of a header row count once each
                break
    return out


def _paragraphs(pages: list[list[Line]]) -> list[Page]:
    """Each page's lines joined into paragraphs, one a line; a page may continue the previous one."""
    every = [ln for lines in pages for ln in lines]
    if not every:
        return [Page("") for _ in pages]
    size = statistics.median(ln.height for ln in every)
    out, previous = [], None
    for lines in pages:
        # margins of the body text, per page (odd and even pages may be shifted); a nearly empty
        # page has too few lines to tell, so it uses the whole file's
        margin_lines = lines if len(lines) >= 5 else every
        left = statistics.mode(round(ln.left) for ln in margin_lines)
        right = _right_margin(margin_lines)
        paras: list[str] = []
        continues = False
        for ln in lines:
            text = ln.text.strip()
            if previous is not None and _goes_on(*previous, ln, text, size, ln.margins[0] if ln.margins else left):
                if paras:
                    paras[-1] += _joiner(paras[-1], text) + text
                else:
                    continues = True
                    paras.append(text)
            else:
                paras.append(text)
            previous = (ln, ln.margins[1] if ln.margins else right)
        out.append(Page("\n".join(paras), continues))
    return out


def _right_margin(lines: list[Line]) -> float:
    """Where full lines end: the rightmost edge that several lines share (justified text), so one
    wide table row or figure label does not make every other line look short."""
    ends: dict[int, int] = {}
    for ln in lines:
        ends[round(ln.right / 2)] = ends.get(round(ln.right / 2), 0) + 1
    shared = [2 * e for e, n in ends.items() if n >= 2]
    return max(shared) if shared else max(ln.right for ln in lines)


def _goes_on(prev: Line, right: float, line: Line, text: str, size: float, left: float) -> bool:
    """Whether `line` continues the paragraph that `prev` (on a page with that right margin) ends so far."""
    if prev.height <= 0 or line.height <= 0:  # no positions known: cleaning decides
        return False
    if prev.right < right - 1.5 * size:  # a short line ends its paragraph (a full one may end a sentence)
        return False
    if line.text[:1] in (" ", "\u3000") or line.left > left + 0.8 * size:  # an indented line starts one
        return False
    if abs(line.height - prev.height) > 0.2 * size:  # a change of font size: a heading
        return False
    if prev.bottom - line.top > 1.2 * size and prev.bottom > line.top:  # a blank line on the same page
        return False
    return heading_level(text) in (None, 7)


def _joiner(before: str, after: str) -> str:
    """English words broken at a line end need their space back; Chinese needs none."""
    return " " if before[-1:].isascii() and before[-1:].isalnum() and after[:1].isascii() and after[:1].isalnum() else ""
