"""Saved web pages, read with lxml: the main content only, headings kept as Markdown headings.

The page's own charset (meta tag) is used when it has one, else the same detection as for text
files. Scripts, styles, navigation, headers, footers, sidebars, forms and elements whose
class/id names say they are menus, breadcrumbs, share buttons or the like are removed. When the
page marks its content (<main>, <article>, role="main"), only that is read.
"""

from __future__ import annotations

import codecs
import re

from qa.formats import require
from qa.loading import LoadError, decode

CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.IGNORECASE)
DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed",
             "nav", "aside", "footer", "form", "button", "select", "input", "textarea", "head"]
DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
# class/id words of page furniture ("main-nav", "breadcrumb", "share_box", "footer")
BOILERPLATE = {"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "crumb", "footer",
               "sidebar", "side", "share", "social", "advert", "ads", "banner", "copyright", "toolbar",
               "pagination", "pager", "related", "comment", "comments", "login", "topbar", "skip"}
BLOCKS = {"p", "div", "section", "article", "main", "header", "li", "ul", "ol", "dl", "dt", "dd",
          "table", "tr", "blockquote", "pre", "figure", "figcaption", "center", "body", "td", "th",
          "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr", "address"}
GB = {"gb2312", "gbk", "x-gbk", "gb18030", "euc-cn", "hz-gb-2312"}  # all read as their superset


def read(data: bytes) -> tuple[str, str, list]:
    lxml_html = require("lxml.html", "lxml", "HTML files")
    text, encoding = _decode(data)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with an encoding declaration
    try:
        root = lxml_html.document_fromstring(text)
    except Exception as exc:  # noqa: BLE001 - lxml's parser errors for markup it cannot make a tree of
        raise LoadError(f"not a readable HTML page ({type(exc).__name__}: {str(exc)[:120]})") from None
    title = " ".join((root.findtext(".//title") or "").split())
    _strip_furniture(root)
    main = _main(root)
    lines: list[str] = []
    _walk(main, lines)
    lines = [ln for ln in (re.sub(r"[ \t\r\f\v\xa0]+", " ", ln).strip() for ln in lines) if ln and ln != "#"]
    if title and not any(ln.startswith("# ") for ln in lines):
        lines.insert(0, f"# {title}")
    return "\n".join(lines), f"html/{encoding}", []


def _decode(data: bytes) -> tuple[str, str]:
    m = CHARSET.search(data[:4096])
    if m and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = m.group(1).decode("ascii").lower()
        name = "gb18030" if name in GB else name
        try:
            return data.decode(name).replace("\r\n", "\n").replace("\r", "\n"), name
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown charset: fall back to detection
    return decode(data)


def _strip_furniture(root) -> None:
    for el in list(root.iter(*DROP_TAGS)):
        _remove(el)
    for el in list(root.iter("header")):
        if el.getparent() is not None and not el.xpath(".//h1"):  # a page's header, not an article's
            _remove(el)
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None or el.tag in ("html", "body", "main", "article"):
            continue
        words = set(re.split(r"[\s_-]+", f"{el.get('class', '')} {el.get('id', '')}".lower()))
        if (el.get("role") or "").lower() in DROP_ROLES or words & BOILERPLATE:
            _remove(el)


def _remove(el) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _main(root):
    """The element holding the page's content: <main>, <article> or role="main" if it has text."""
    for path in ("//main", "//*[@role='main']", "//article"):
        found = root.xpath(path)
        if found and len(found[0].text_content().strip()) >= 10:
            return found[0]
    body = root.find("body")
    return body if body is not None else root


def _walk(el, lines: list[str]) -> None:
    """Append el's text to lines: a new line at each block, "#"*n before an <hn> heading."""
    tag = el.tag if isinstance(el.tag, str) else ""  # a comment's tag is a function; its text is not content
    if tag == "tr":
        cells = [re.sub(r"\s+", " ", c.text_content()).strip() for c in el if c.tag in ("td", "th")]
        cells = [c for c in cells if c]
        if cells and all(len(c) <= 40 for c in cells):  # a data row; long cells are page layout
            lines.append("；".join(cells) + ("" if cells[-1][-1] in "。；！？" else "。"))
            lines.append("")
            _add(lines, el.tail)
            return
    if tag in BLOCKS:
        lines.append("")
    if re.fullmatch(r"h[1-6]", tag):
        lines.append("#" * int(tag[1]) + " " + re.sub(r"\s+", " ", el.text_content()).strip())
    else:
        if tag:
            _add(lines, el.text)
        for child in el:
            _walk(child, lines)
    if tag in BLOCKS:
        lines.append("")
    _add(lines, el.tail)


def _add(lines: list[str], text: str | None) -> None:
    if text:
        if not lines:
            lines.append("")
        # a line break in the source between two Chinese characters is not a space
        text = re.sub(r"(?<=[\u4e00-\u9fff，。、；：！？])[ \t]*\n\s*(?=[\u4e00-\u9fff])", "", text)
        lines[-1] += re.sub(r"\s+", " ", text)
