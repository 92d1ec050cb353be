"""Pictures of report pages (.png, .jpg, .tif, multi-page .tif): each frame is a scanned page, read
by OCR (qa/ocr.py) and laid out like a PDF page: reading order for one or two columns, lines joined
into paragraphs, running headers and page numbers dropped (qa/formats/pdf.py).

`ocr_lines` is also how the PDF reader turns an OCR'd page or picture into its lines.
"""

from __future__ import annotations

import io
import statistics

from qa.formats import require
from qa.loading import LoadError, Page
from qa.ocr import Ocr, OcrPage, OcrUnavailable

MAX_SIDE = 5000  # larger pictures (a phone's 48 MP photo) are scaled down to this before OCR


def read(data: bytes, ocr: Ocr | None = None) -> tuple[str, str, list[Page]]:
    from qa.formats import pdf

    pil = require("PIL.Image", "pillow", "pictures")
    from PIL import ImageOps, ImageSequence

    ocr = ocr or Ocr()
    if ocr.mode == "never":
        raise LoadError("a picture has no text layer: ingest it with --ocr auto to read it by OCR")
    try:
        picture = pil.open(io.BytesIO(data))
        frames = []
        for frame in ImageSequence.Iterator(picture):
            frame = ImageOps.exif_transpose(frame).convert("RGB")  # phone photos say how they were held
            if max(frame.size) > MAX_SIDE:
                frame.thumbnail((MAX_SIDE, MAX_SIDE))
            frames.append(frame)
        dpi = _dpi(picture)
    except (OSError, ValueError, pil.DecompressionBombError) as exc:
        raise LoadError(f"unreadable picture ({exc})") from None
    pages, confidence = [], []
    bar = ocr.bar(len(frames), "图片")
    try:
        for frame in frames:
            read = ocr.recognize(frame)
            pages.append(ocr_lines(read, dpi))
            confidence.append(None if read.confidence is None else round(read.confidence, 4))
            bar.update(1)
    except OcrUnavailable as exc:
        raise LoadError(f"a picture needs OCR: {exc}") from None
    finally:
        bar.close()
    if not any(pages):
        raise LoadError("no text found by OCR in this picture")
    pdf._drop_running_lines(pages)
    out = pdf._paragraphs(pages)
    for page, conf in zip(out, confidence):
        page.ocr = conf
    return "\n".join(p.text for p in out), "image", out


def _dpi(picture) -> float:
    """The picture's resolution when it says one (scanners do), else 200; only the layout's
    proportions depend on it."""
    value = picture.info.get("dpi")
    try:
        dpi = float(value[0]) if value else 0.0
    except (TypeError, ValueError, IndexError):
        dpi = 0.0
    return dpi if 50 <= dpi <= 1200 else 200.0


def ocr_lines(page: OcrPage, dpi: float, left: float = 0.0, top: float | None = None) -> list:
    """An OCR'd page (or picture) as the PDF reader's lines, in reading order, in PDF points with
    y up: (left, top) is where the picture's top-left corner sits on the PDF page (a whole page
    when top is None)."""
    from qa.formats.pdf import Line

    scale = 72 / dpi
    top = page.height * scale if top is None else top
    rows = _rows(page.lines)
    out = []
    for column in _reading_order(rows):
        for row in column:
            x0, y0, x1, y1, text, _ = row
            out.append(Line(text, left + x0 * scale, top - y1 * scale, left + x1 * scale, top - y0 * scale,
                            ocr=True))
        _set_margins(out[len(out) - len(column):])
    return out


def _rows(lines) -> list[list]:
    """Boxes of one printed line (split by wide spaces) merged: [x0, y0, x1, y1, text, confidence]."""
    items = sorted(([ln.x0, ln.y0, ln.x1, ln.y1, ln.text, ln.confidence] for ln in lines), key=lambda r: r[0])
    rows: list[list] = []
    for item in items:
        height = item[3] - item[1]
        for row in rows:
            overlap = min(row[3], item[3]) - max(row[1], item[1])
            if overlap > 0.6 * min(height, row[3] - row[1]) and 0 <= item[0] - row[2] < 1.2 * height:
                from qa.ocr import _space

                row[4] += _space(row[4], item[4]) + item[4]
                row[1], row[2], row[3] = min(row[1], item[1]), item[2], max(row[3], item[3])
                break
        else:
            rows.append(item)
    return sorted(rows, key=lambda r: (r[1], r[0]))


def _reading_order(rows: list[list]) -> list[list[list]]:
    """Groups of rows to read one after the other: for a page of one column, the rows top to
    bottom; for two columns, between lines that span both, the left column then the right."""
    if len(rows) < 6:
        return [rows] if rows else []
    lo, hi = min(r[0] for r in rows), max(r[2] for r in rows)
    best = None
    for x in sorted({r[0] for r in rows} | {r[2] for r in rows}):
        if not lo + 0.3 * (hi - lo) <= x <= lo + 0.7 * (hi - lo):
            continue
        crossing = sum(r[0] < x < r[2] for r in rows)
        if best is None or crossing < best[0]:
            best = (crossing, x)
    if best is None:
        return [rows]
    crossing, x = best
    left = [r for r in rows if r[2] <= x]
    right = [r for r in rows if r[0] >= x]
    side_by_side = (left and right and min(max(r[3] for r in left), max(r[3] for r in right))
                    - max(min(r[1] for r in left), min(r[1] for r in right))
                    > 0.5 * min(max(r[3] for r in s) - min(r[1] for r in s) for s in (left, right)))
    if len(left) < 3 or len(right) < 3 or crossing > max(2, 0.25 * len(rows)) or not side_by_side:
        return [rows]
    groups, band = [], []
    for r in rows:  # top to bottom; a line across the gutter closes a band of two columns
        if r[0] < x < r[2]:
            groups += [g for g in (sorted((b for b in band if b[2] <= x), key=lambda b: b[1]),
                                   sorted((b for b in band if b[2] > x), key=lambda b: b[1])) if g]
            groups.append([r])
            band = []
        else:
            band.append(r)
    groups += [g for g in (sorted((b for b in band if b[2] <= x), key=lambda b: b[1]),
                           sorted((b for b in band if b[2] > x), key=lambda b: b[1])) if g]
    return groups


def _set_margins(lines: list) -> None:
    """Lines of one column share its margins: the edges most of its lines start and end at, so
    that a line that ends short or starts indented is told apart despite the scan's jitter; and
    lines of about the same height (OCR boxes vary with the characters) take the same height."""
    if not lines:
        return
    size = statistics.median(ln.height for ln in lines)
    for ln in lines:
        if abs(ln.height - size) <= 0.3 * size:
            middle = (ln.top + ln.bottom) / 2
            ln.bottom, ln.top = middle - size / 2, middle + size / 2
    lefts = sorted(ln.left for ln in lines)
    # the left edge shared by most lines (within a third of a character)
    left = max(lefts, key=lambda v: sum(abs(w - v) <= size / 3 for w in lefts))
    rights = [ln.right for ln in lines]
    right = max(rights)
    shared = [v for v in rights if sum(abs(w - v) <= size / 2 for w in rights) >= 2]
    if shared:
        right = max(shared)
    for ln in lines:
        ln.margins = (left, right)
        if abs(ln.left - left) <= size / 3:
            ln.left = left
        if abs(ln.right - right) <= size / 2:
            ln.right = right
