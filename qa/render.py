"""HTML for the chat app: the answer with clickable [n] markers, and the sources panel.

Every piece of question, document or file text is escaped here, so nothing a user types or a
report contains is ever run as HTML or script; only the tags written below are markup.
"""

from __future__ import annotations

import html
import re

from qa.answering import NOT_FOUND
from qa.cleaning import plain
from qa.notices import claim_reason, notice_text, refusal_reason
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


def source_id(n: int, turn: int | None = None) -> str:
    """The id of source n in the panel: of the answer numbered `turn` in the conversation, so that
    [1] of an earlier answer still finds its own source 1."""
    return f"src-{n}" if turn is None else f"src-{turn}-{n}"


def answer_message(answer_text: str, lang: str = "zh", short: str | None = None,
                   searched: str | None = None, result: Answer | None = None, turn: int | None = None) -> str:
    """The chat bubble of an answer (possibly a streamed prefix of it): [n] become links to its
    source n (#src-n, or #src-turn-n for the answer numbered turn). With the finished `result`: its
    confidence (or its checked claims), marked when low, and for a refusal why, and the closest
    sentence found, shown as such rather than hidden."""
    shown = t(lang, "refused") if answer_text == NOT_FOUND else plain(answer_text)
    body = _claims_marked(shown, result.claims) if result is not None and result.claims else md_text(shown)
    body = re.sub(r"\\\[(\d{1,2})\\\]",
                  lambda m: f'<a href="#{source_id(int(m.group(1)), turn)}" class="qa-cite">[{m.group(1)}]</a>', body)
    parts = [body]
    if short:
        parts.append(f"<br><b>{t(lang, 'short')}</b>{t(lang, 'colon')}{md_text(short)}")
    if result is not None and not result.answerable and (why := refusal_reason(result.refusal, lang)):
        parts.append(f'<br><small class="qa-why">{t(lang, "why")}{t(lang, "colon")}{md_text(why)}</small>')
    if result is not None:
        parts.append(_checked(result, lang) if result.claims else _confidence(result, lang))
        if result.notice:
            parts.append(f'<br><small class="qa-notice">⚠ {md_text(notice_text(result.notice, lang))}</small>')
    if searched:
        parts.append(f'<br><small class="qa-searched">{t(lang, "searched")}{t(lang, "colon")}{md_text(searched)}</small>')
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
            lines.append(f'<br><small class="qa-unverified-why">⚠ {t(lang, "unverified")}{t(lang, "colon")}'
                         f'“{md_text(c.text)}”{_bracketed(md_text(claim_reason(c, lang)), lang)}</small>')
    return "".join(lines)


LOW_CONFIDENCE = 0.6  # an answer given below this is marked as unsure


def _confidence(result: Answer, lang: str) -> str:
    value = f"{result.confidence:.2f}"
    if result.answerable:
        low = result.confidence < LOW_CONFIDENCE
        label = t(lang, "low_confidence" if low else "confidence")
        return f'<br><small class="qa-confidence{" qa-low" if low else ""}">{label}{t(lang, "colon")}{value}</small>'
    if result.closest is None:
        return ""
    return (f'<br><small class="qa-confidence qa-low">{t(lang, "closest")}'
            f'{_bracketed(t(lang, "confidence") + " " + value, lang)}{t(lang, "colon")}'
            f'{md_text(plain(result.closest.quote))}</small>')


def _bracketed(inner: str, lang: str) -> str:
    """（…） after Chinese, " (…)" after English."""
    return f"（{inner}）" if lang == "zh" else f" ({inner})"


def sources_html(result: Answer | None, documents: dict[str, Document], lang: str = "zh",
                 turn: int | None = None) -> str:
    """The panel beside the chat: the cited passages, or for a refusal the closest ones."""
    if result is None:
        return f'<div class="qa-sources qa-empty">{t(lang, "no_sources")}</div>'
    if result.citations:
        items = [_source(c.n, c.hit, documents.get(c.hit.passage.doc_id), c.quote, lang, turn)
                 for c in result.citations]
        head = t(lang, "sources")
    elif result.hits:
        closest = result.closest.quote if result.closest else None
        items = [_source(None, h, documents.get(h.passage.doc_id),
                         closest if result.closest and h.passage.passage_id == result.closest.hit.passage.passage_id
                         else None, lang) for h in result.hits[:3]]
        head = t(lang, "may_be_related")
    else:
        return f'<div class="qa-sources qa-empty">{text(t(lang, "refused"))}</div>'
    return f'<div class="qa-sources"><div class="qa-sources-head">{text(head)}</div>{"".join(items)}</div>'


def conversation_sources(panels: list[str], lang: str = "zh") -> str:
    """The panel for a whole conversation: the sources of every answer (panels[i] of answer i), only
    the latest shown; clicking [n] in answer i shows answer i's sources (see HEAD)."""
    if not panels:
        return sources_html(None, {}, lang)
    last = len(panels) - 1
    return "".join(f'<div class="qa-turn{"" if i == last else " qa-hidden"}" data-turn="{i}">{html_}</div>'
                   for i, html_ in enumerate(panels))


def _source(n: int | None, hit: Hit, doc: Document | None, quote: str | None, lang: str,
            turn: int | None = None) -> str:
    p = hit.passage
    title = doc.title if doc else p.doc_id
    meta = " · ".join(text(x) for x in ((doc.date, doc.shown("place"), doc.shown("speaker")) if doc else ())
                      + (section_path(p.section, title),) if x)
    anchor = f' id="{source_id(n, turn)}"' if n is not None else ""
    label = f'<span class="qa-src-n">[{n}]</span> ' if n is not None else ""
    passage = highlight(p.text, quote)
    context = ""
    if doc and doc.text:
        before = doc.text[max(0, p.start - CONTEXT_CHARS):p.start]
        after = doc.text[p.end:p.end + CONTEXT_CHARS]
        middle = doc.text[p.start:p.end] or p.text
        context = (f'<details class="qa-context"><summary>{text(t(lang, "context"))}</summary>'
                   f'<div class="qa-context-text">{"…" if p.start > CONTEXT_CHARS else ""}{_lines(text(plain(before)))}'
                   f'<span class="qa-context-passage">{_lines(highlight(middle, quote))}</span>'
                   f'{_lines(text(plain(after)))}{"…" if p.end + CONTEXT_CHARS < len(doc.text) else ""}</div></details>')
    # the file's name, as in the documents table: the server's folders are nobody's business
    source = " · ".join(filter(None, (text(file_name(doc.source)) if doc else "", text(page_label(p, lang)),
                                      text(t(lang, "ocr", confidence=f"{p.ocr:.2f}")) if p.ocr is not None else "")))
    return (f'<div class="qa-src"{anchor}><div class="qa-src-head">{label}<b>《{text(title)}》</b></div>'
            f'<div class="qa-src-meta">{meta}</div><div class="qa-src-file">{source}</div>'
            f'<blockquote class="qa-passage">{_lines(passage)}</blockquote>{context}</div>')


def file_name(source: str) -> str:
    """The last part of a document's source path (either slash)."""
    return source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def section_path(section: str, title: str | None) -> str:
    """A passage's heading path as shown beside its report's title: without the title again."""
    parts = [x for x in (section or "").split(" > ") if x and x != title]
    return " > ".join(parts)


def page_label(p, lang: str = "zh") -> str:
    """第3页 / p. 3 (第3–4页 / pp. 3–4 across a page break); "" for a format without pages."""
    if p.page is None or lang == "zh":
        return p.page_label
    return f"pp. {p.page}–{p.last_page}" if p.last_page and p.last_page != p.page else f"p. {p.page}"


def highlight(passage: str, quote: str | None) -> str:
    """The passage escaped, as a reader sees it (cleaning.plain), with its first occurrence of quote
    wrapped in <mark>."""
    passage, quote = plain(passage), plain(quote) if quote else quote
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
.qa-turn.qa-hidden { display: none; }
/* gradio titles its toasts with their type in English ("Warning"); in Chinese, say it in Chinese */
html[lang="zh-CN"] .toast-title.warning, html[lang="zh-CN"] .toast-title.info { font-size: 0; }
html[lang="zh-CN"] .toast-title.warning::before { content: "注意"; font-size: var(--text-md); }
html[lang="zh-CN"] .toast-title.info::before { content: "提示"; font-size: var(--text-md); }
.qa-why { color: #b45309; }
#qa-clear, #qa-send { white-space: nowrap; min-width: max-content !important; }
#qa-chat .bubble-wrap { margin-top: 2.6em; height: calc(100% - 2.6em); }
#qa-docs td { white-space: normal; overflow-wrap: anywhere; }
#qa-docs th, #qa-docs th * { white-space: nowrap; overflow-wrap: normal; }  /* "Speaker", not "Speake / r" */
"""

# Clicking [n] in an answer shows that answer's sources in the panel (the panel holds every answer's,
# see conversation_sources) and highlights source n. Captured on the document, before the chat's own
# link handling (which would open the link in a new tab). "查看上下文" opens scrolled to the passage.
# qaLocale sets the page's lang and gradio's own words (upload area, toasts) to the chosen language;
# its promise settles once gradio has taken the language.
HEAD = """
<script>
document.documentElement.lang = "zh-CN";
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  var target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  var turn = target.closest(".qa-turn");
  if (turn) {
    document.querySelectorAll("#qa-sources .qa-turn").forEach(function (el) {
      el.classList.toggle("qa-hidden", el !== turn);
    });
  }
  document.querySelectorAll(".qa-src.qa-active").forEach(function (el) { el.classList.remove("qa-active"); });
  target.classList.add("qa-active");
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
document.addEventListener("toggle", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("details.qa-context") || !box.open) return;
  var text = box.querySelector(".qa-context-text"), passage = box.querySelector(".qa-context-passage");
  if (!text || !passage) return;
  var line = passage.getClientRects()[0];  // one whole line of what comes before stays in view
  text.scrollTop = passage.offsetTop - text.offsetTop - (line ? line.height : 16) - 4;
}, true);
window.qaLocale = async function (code) {
  if (window.qaChosen !== code) {  // what a toast says is in the language left: closed
    document.querySelectorAll(".toast-body .toast-close").forEach(function (b) { b.click(); });
  }
  window.qaChosen = code;
  document.documentElement.lang = code;
  try {
    var core = performance.getEntriesByType("resource").map(function (e) { return e.name; })
      .find(function (n) { return /\/assets\/core-[^\/]*\.js$/.test(n); });
    if (!core) return;
    var gradio = await import(core);
    if (!gradio.changeLocale) return;
    // settled: gradio sets the page's lang to the chosen one once its words are loaded (at most 1.5 s
    // waited; a lang of another language, the browser's on a first load, is set again below)
    var settled = new Promise(function (resolve) {
      var seen = new MutationObserver(function () {
        if (document.documentElement.lang === code) { seen.disconnect(); resolve(); }
      });
      seen.observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
      setTimeout(function () { seen.disconnect(); resolve(); }, 1500);
    });
    gradio.changeLocale(code);
    // gradio sets the page's lang to its own language: on a page's first load to the browser's,
    // late on a busy machine. Whenever it says another than the one chosen, the chosen is set again.
    if (!window.qaWatch) {
      window.qaWatch = new MutationObserver(function () {
        var chosen = window.qaChosen;
        if (chosen && document.documentElement.lang !== chosen) {
          document.documentElement.lang = chosen;
          gradio.changeLocale(chosen);
        }
      });
      window.qaWatch.observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
    }
    await settled;
  } catch (e) { /* gradio's own words stay in the browser's language */ }
};
</script>
"""
