"""Word .docx files, read with python-docx: paragraphs and tables of the body, in document order.

Heading styles become Markdown heading lines ("Title" → "#", "Heading 1" → "##", …), which
cleaning recognises, so they make the heading path of the passages under them. A table becomes
one sentence a row, each cell named by its column's header: "指标：拆迁户数；2017年：4000户。"
Page headers, footers and comments are not part of the body and are left out.
"""

from __future__ import annotations

import io
import re
import zipfile

from qa.formats import require
from qa.loading import LoadError

HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
MAX_UNPACKED = 300 * 1024 * 1024  # a .docx that unpacks to more is a zip bomb, not a report


def read(data: bytes) -> tuple[str, str, list]:
    docx = require("docx", "python-docx", "Word files")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a Word .docx file (not a zip archive); an old .doc must be saved as .docx")
    _check_size(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - a damaged file fails in zip, lxml or python-docx, many ways
        raise LoadError(f"not a valid Word .docx file ({type(exc).__name__}: {str(exc)[:120]})") from None
    # paragraph.style looks the style up among all styles each time, which is quadratic on a file
    # of many paragraphs: the names are read once, and each paragraph's style id looked up here
    names = {s.style_id: s.name for s in document.styles}
    lines = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            lines += _table_lines(block)
        else:
            text = block.text.strip()
            if text:
                lines.append(_heading_prefix(names.get(block._p.style) or "") + text)
    return "\n".join(lines), "docx", []


def _check_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(f"not a valid Word .docx file (broken zip archive: {exc})") from None
    if unpacked > MAX_UNPACKED:
        raise LoadError(f"unpacks to {unpacked / 2**20:.0f} MiB (a zip bomb?); the limit is "
                        f"{MAX_UNPACKED // 2**20} MiB")


def properties(data: bytes) -> dict[str, str]:
    """The file's own title and subject (File → Properties), when it has them."""
    docx = require("docx", "python-docx", "Word files")
    try:
        _check_size(data)
        core = docx.Document(io.BytesIO(data)).core_properties
    except Exception:  # noqa: BLE001 - properties are a bonus; read() has already said what is wrong
        return {}
    return {k: v.strip() for k, v in (("title", core.title), ("subject", core.subject)) if v and v.strip()}


def _heading_prefix(name: str) -> str:
    """The Markdown heading mark of a paragraph style name."""
    if name == "Title":
        return "# "
    m = HEADING_STYLE.match(name)
    return "#" * min(6, int(m.group(1)) + 1) + " " if m else ""


def _table_lines(table) -> list[str]:
    rows = [_cells(row) for row in table.rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header, body = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
    lines = []
    for row in body:
        parts = [f"{h}：{v}" if h and h != v else v for h, v in zip(header + [""] * len(row), row) if v]
        if parts:
            lines.append("；".join(parts) + "。")
    return lines


def _cells(row) -> list[str]:
    """Cell texts of a row, one per grid column; a merged cell's text is given once, then ""."""
    out, seen = [], []
    for cell in row.cells:
        repeated = any(cell._tc is tc for tc in seen)
        seen.append(cell._tc)
        out.append("" if repeated else re.sub(r"\s+", " ", cell.text).strip())
    return out
