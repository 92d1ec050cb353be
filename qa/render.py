"""HTML for the chat app: the answer with clickable [n] markers, and the sources panel.

Every piece of question, document or file text is escaped here, so nothing a user types or a
report contains is ever run as HTML or script; only the tags written below are markup.
"""

from __future__ import annotations

import html
import re

from qa.answering import NOT_FOUND
from qa.types import Answer, Document, Hit
from qa.ui_text import t

CONTEXT_CHARS = 1000  # of the document, either side of a passage, under "show surrounding text"
MARKER = re.compile(r"\[(\d{1,2})\]")
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")


def text(value: str | None) -> str:
    """Plain text, safe inside HTML and inside the chat's Markdown."""
    return html.escape(value or "", quote=True)


def md_text(value: str | None) -> str:
    """Plain text for a Markdown-rendered message: HTML escaped and Markdown syntax disarmed."""
    return MD_SPECIAL.sub(r"\\\1", text(value)).replace("\n", "<br>")


def answer_message(answer_text: str, lang: str = "zh", short: str | None = None,
                   searched: str | None = None, result: Answer | None = None) -> str:
    """The chat bubble of an answer (possibly a streamed prefix of it): [n] become links to #src-n.
    With the finished `result`: its confidence, marked when low, and for a refusal the closest
    sentence found, shown as such rather than hidden."""
    shown = t(lang, "refused") if answer_text == NOT_FOUND else answer_text
    body = _claims_marked(shown, result.claims) if result is not None and result.claims else md_text(shown)
    body = re.sub(r"\\\[(\d{1,2})\\\]", lambda m: f'<a href="#src-{m.group(1)}" class="qa-cite">[{m.group(1)}]</a>', body)
    parts = [body]
    if short:
        parts.append(f"<br><b>{t(lang, 'short')}</b>：{md_text(short)}")
    if result is not None:
        parts.append(_checked(result, lang) if result.claims else _confidence(result, lang))
        if result.notice:
            parts.append(f'<br><small class="qa-notice">⚠ {md_text(result.notice)}</small>')
    if searched:
        parts.append(f'<br><small class="qa-searched">{t(lang, "searched")}：{md_text(searched)}</small>')
    return "".join(parts)


def _claims_marked(shown: str, claims) -> str:
    """The answer escaped, each unverified claim wrapped in a visible mark with its reason."""
    out, pos = [], 0
    for c in claims:
        at = shown.find(c.text, pos)
        if at < 0:
            continue
        out.append(md_text(shown[pos:at]))
        claim = md_text(c.text)
        out.append(claim if c.verified else f'<span class="qa-unverified">{claim}</span>')
        pos = at + len(c.text)
    out.append(md_text(shown[pos:]))
    return "".join(out)


def _checked(result: Answer, lang: str) -> str:
    """For a model's answer: how many claims were found in their citations, and why the others were not."""
    ok = sum(c.verified for c in result.claims)
    low = ok < len(result.claims)
    lines = [f'<br><small class="qa-confidence{" qa-low" if low else ""}">'
             f'{t(lang, "claims_checked", ok=ok, n=len(result.claims))}</small>']
    for c in result.claims:
        if not c.verified:
            why = t(lang, f"why_{c.why[0]}", items=c.why[1], refs=c.why[2]) if c.why else c.reason
            lines.append(f'<br><small class="qa-unverified-why">⚠ {t(lang, "unverified")}：'
                         f'“{md_text(c.text)}”（{md_text(why)}）</small>')
    return "".join(lines)


LOW_CONFIDENCE = 0.6  # an answer given below this is marked as unsure


def _confidence(result: Answer, lang: str) -> str:
    value = f"{result.confidence:.2f}"
    if result.answerable:
        low = result.confidence < LOW_CONFIDENCE
        label = t(lang, "low_confidence" if low else "confidence")
        return f'<br><small class="qa-confidence{" qa-low" if low else ""}">{label}：{value}</small>'
    if result.closest is None:
        return ""
    return (f'<br><small class="qa-confidence qa-low">{t(lang, "closest")}（{t(lang, "confidence")} {value}）：'
            f'{md_text(result.closest.quote)}</small>')


def sources_html(result: Answer | None, documents: dict[str, Document], lang: str = "zh") -> str:
    """The panel beside the chat: the cited passages, or for a refusal the closest ones."""
    if result is None:
        return f'<div class="qa-sources qa-empty">{t(lang, "no_sources")}</div>'
    if result.citations:
        items = [_source(c.n, c.hit, documents.get(c.hit.passage.doc_id), c.quote, lang) for c in result.citations]
        head = t(lang, "sources")
    elif result.hits:
        items = [_source(None, h, documents.get(h.passage.doc_id), None, lang) for h in result.hits[:3]]
        head = t(lang, "may_be_related")
    else:
        return f'<div class="qa-sources qa-empty">{text(t(lang, "refused"))}</div>'
    return f'<div class="qa-sources"><div class="qa-sources-head">{text(head)}</div>{"".join(items)}</div>'


def _source(n: int | None, hit: Hit, doc: Document | None, quote: str | None, lang: str) -> str:
    p = hit.passage
    title = doc.title if doc else p.doc_id
    meta = " · ".join(text(x) for x in ((doc.date, doc.place, doc.speaker) if doc else ()) + (p.section,) if x)
    anchor = f' id="src-{n}"' if n is not None else ""
    label = f'<span class="qa-src-n">[{n}]</span> ' if n is not None else ""
    passage = highlight(p.text, quote)
    context = ""
    if doc and doc.text:
        before = doc.text[max(0, p.start - CONTEXT_CHARS):p.start]
        after = doc.text[p.end:p.end + CONTEXT_CHARS]
        middle = doc.text[p.start:p.end] or p.text
        context = (f'<details class="qa-context"><summary>{text(t(lang, "context"))}</summary>'
                   f'<div class="qa-context-text">{"…" if p.start > CONTEXT_CHARS else ""}{_lines(text(before))}'
                   f'<span class="qa-context-passage">{_lines(highlight(middle, quote))}</span>'
                   f'{_lines(text(after))}{"…" if p.end + CONTEXT_CHARS < len(doc.text) else ""}</div></details>')
    source = " · ".join(filter(None, (text(doc.source) if doc else "", text(page_label(p, lang)),
                                      text(t(lang, "ocr", confidence=f"{p.ocr:.2f}")) if p.ocr is not None else "")))
    return (f'<div class="qa-src"{anchor}><div class="qa-src-head">{label}<b>《{text(title)}》</b></div>'
            f'<div class="qa-src-meta">{meta}</div><div class="qa-src-file">{source}</div>'
            f'<blockquote class="qa-passage">{_lines(passage)}</blockquote>{context}</div>')


def page_label(p, lang: str = "zh") -> str:
    """第3页 / p. 3 (第3–4页 / pp. 3–4 across a page break); "" for a format without pages."""
    if p.page is None or lang == "zh":
        return p.page_label
    return f"pp. {p.page}–{p.last_page}" if p.last_page and p.last_page != p.page else f"p. {p.page}"


def highlight(passage: str, quote: str | None) -> str:
    """The passage escaped, with its first occurrence of quote wrapped in <mark>."""
    if not quote or quote not in passage:
        return text(passage)
    i = passage.index(quote)
    return f"{text(passage[:i])}<mark>{text(quote)}</mark>{text(passage[i + len(quote):])}"


def _lines(escaped: str) -> str:
    return escaped.replace("\n", "<br>")


CSS = """
.qa-sources { font-size: 0.95em; }
.qa-sources-head { font-weight: bold; margin-bottom: .4em; }
.qa-src { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .5em .7em; margin-bottom: .6em; }
.qa-src.qa-active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.qa-src-meta, .qa-src-file { color: var(--body-text-color-subdued); font-size: .85em; }
.qa-passage { margin: .4em 0; padding-left: .6em; border-left: 3px solid var(--border-color-primary); }
.qa-passage mark, .qa-context mark { background: #ffe27a; color: inherit; }
.qa-context-text { max-height: 18em; overflow-y: auto; font-size: .9em; white-space: normal; }
.qa-context-passage { background: var(--color-accent-soft); }
.qa-searched { color: var(--body-text-color-subdued); }
.qa-confidence { color: var(--body-text-color-subdued); }
.qa-confidence.qa-low { color: #b45309; }
.qa-unverified { background: #fde2e1; border-bottom: 2px dashed #c0392b; }
.qa-unverified::before { content: "⚠"; color: #c0392b; }
.qa-unverified-why, .qa-notice { color: #b45309; }
a.qa-cite { text-decoration: none; font-weight: bold; cursor: pointer; }
"""

# Clicking [n] in an answer reveals and highlights source n in the panel. Captured on the document,
# before the chat's own link handling (which would open the link in a new tab).
HEAD = """
<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  var target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  document.querySelectorAll(".qa-src.qa-active").forEach(function (el) { el.classList.remove("qa-active"); });
  target.classList.add("qa-active");
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
</script>
"""
