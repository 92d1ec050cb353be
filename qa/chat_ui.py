"""The Gradio page: a chat tab (answers streamed, sources panel, settings), a documents tab and an
evaluate tab (qa/eval_tab.py).

Built by `build(library)`; app.py launches it. Imports gradio, so `import qa` never imports this.
To add a tab, add a `with gr.Tab(...)` block in `build` and a class like `_DocumentsTab` for its parts.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from qa import followup, loading, render
from qa.answerers import Turn
from qa.config import MODES
from qa.eval_tab import EvalTab
from qa.library import MAX_UPLOAD_BYTES, Library, UploadError
from qa.pipeline import MAX_QUESTION_CHARS, check_question
from qa.ui_text import LANGS, t

EXAMPLES = ["2017年计划拆迁多少户？", "2017年政府工作报告提出全年完成拆迁多少户？",
            "2016年上半年拱墅区地区生产总值是多少？", "區委常委會多久召開一次集中點評會？"]
STREAM_CHARS = 3  # characters per streamed chunk
# seconds between chunks, so the answer visibly types out ($QA_STREAM_PAUSE: the tests slow it down
# to type while an answer streams)
STREAM_PAUSE = float(os.environ.get("QA_STREAM_PAUSE") or 0.015)
TURN_FIELDS = ("question", "speaker", "title")  # what the rule-based rewrite reads of an earlier turn
FOLLOW_UP_CHARS = 12  # a question this short may lean on the previous one even without 那/他/呢


def build(library: Library, examples: list[str] | None = None) -> gr.Blocks:
    a = library.assistant
    # gradio's copies of uploaded files are deleted an hour after they came (checked every hour)
    with gr.Blocks(title=t("zh", "title"), delete_cache=(3600, 3600)) as demo:
        lang = gr.State("zh")
        turns = gr.State([])  # [{"question", "speaker", "title"}] for follow-up questions
        # per answer, in both languages: its sources panel {"zh": html, "en": html} and its bubble ("answer")
        panels = gr.State([])
        inbox = gr.State(_Inbox)  # questions sent and not yet answered (a new one per session)
        sent = gr.Number(0, visible=False)  # the browser numbers each question it sends (TAKE_JS)
        with gr.Row():
            header = gr.Markdown(_intro(a, "zh"), elem_id="qa-header")
            lang_pick = gr.Radio(list(LANGS), value="中文", label=t("zh", "language"), scale=0,
                                 min_width=180, elem_id="qa-lang")
        with gr.Tabs():
            with gr.Tab(t("zh", "chat_tab"), id="chat") as chat_tab:
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label=t("zh", "chat"), height=440, elem_id="qa-chat")
                        with gr.Row():
                            box = gr.Textbox(label=t("zh", "question"), placeholder=t("zh", "placeholder"),
                                             scale=5, elem_id="qa-question", max_length=MAX_QUESTION_CHARS)
                            send = gr.Button(t("zh", "send"), variant="primary", scale=0, min_width=80,
                                             elem_id="qa-send")
                            clear = gr.Button(t("zh", "new_chat"), scale=0, min_width=100, elem_id="qa-clear")
                        example_set = gr.Examples(examples or EXAMPLES, inputs=box, label=t("zh", "examples")).dataset
                        with gr.Accordion(t("zh", "settings"), open=False, elem_id="qa-settings") as settings_box:
                            mode = gr.Radio(_mode_choices("zh"), value=a.settings.mode, label=t("zh", "mode"))
                            k = gr.Slider(1, 20, value=a.settings.top_k, step=1, label=t("zh", "k"))
                            docs = gr.Dropdown(_doc_choices(a), multiselect=True, label=t("zh", "doc_filter"))
                            years = gr.Dropdown(_year_choices(a), multiselect=True, label=t("zh", "year_filter"))
                            answer_mode = gr.Dropdown(_answer_modes("zh"), value=a.settings.answerer,
                                                      label=t("zh", "answer_mode"), elem_id="qa-answer-mode")
                    with gr.Column(scale=2):
                        sources = gr.HTML(render.sources_html(None, {}, "zh"), elem_id="qa-sources")
            with gr.Tab(t("zh", "docs_tab"), id="docs") as docs_tab:
                doc_parts = _DocumentsTab(library, lang)
            with gr.Tab(t("zh", "eval_tab"), id="eval") as eval_tab:
                eval_parts = EvalTab(library, lang)

        def answer(message, history, past, lang, mode, k, doc_ids, years, answer_mode):
            """Stream one answer: yields the growing history (a list), and last (history, its sources panel
            in both languages with its bubble in both under "answer", the turns for follow-ups)."""
            assistant = library.assistant  # this question keeps this one even if an upload swaps it
            turns = [Turn(p["question"], p["answer"]) for p in past if p.get("answer")]
            # the model rewrites what looks like a follow-up (a round trip: not for every question)
            maybe_follow_up = followup.refers_back(message) or len(message) <= FOLLOW_UP_CHARS
            searched = (assistant.answerer("llm").rewrite(message, turns)
                        if answer_mode == "llm" and turns and maybe_follow_up else None)
            searched = searched or followup.rewrite(message, [followup.Turn(**{f: p.get(f) for f in TURN_FIELDS})
                                                              for p in past])
            turn = sum(1 for m in history if _role(m) == "assistant")  # this answer's number: its [n] find its sources
            history = list(history) + [{"role": "user", "content": render.md_text(message)},
                                       {"role": "assistant", "content": ""}]
            asked = dict(k=int(k), mode=mode, doc_ids=doc_ids or None, years=[int(y) for y in years or []] or None)
            if answer_mode == "llm":  # the model's words as they come, then the checked answer
                written = ""
                for item in assistant.ask_stream(searched or message, **asked, answerer="llm", history=turns):
                    if isinstance(item, str):
                        written += item
                        history[-1] = {"role": "assistant", "content": render.answer_message(written, lang, turn=turn)}
                        yield history
                    else:
                        result = item
            else:
                result = assistant.ask(searched or message, **asked, answerer="extractive")
                shown = t(lang, "refused") if not result.answerable else result.answer
                for end in range(STREAM_CHARS, len(shown), STREAM_CHARS):
                    history[-1] = {"role": "assistant", "content": render.answer_message(shown[:end], lang, turn=turn)}
                    yield history
                    time.sleep(STREAM_PAUSE)
            bubbles = {code: render.answer_message(result.answer if result.answerable else t(code, "refused"), code,
                                                   result.short_answer, searched, result, turn=turn)
                       for code in ("zh", "en")}
            history[-1] = {"role": "assistant", "content": bubbles[lang]}
            cited = result.citations[0].hit.passage.doc_id if result.citations else None
            doc = assistant.index.documents.get(cited) if cited else None
            past = list(past) + [{"question": searched or message, "speaker": doc.speaker if doc else None,
                                  "title": doc.title if doc else None, "answer": result.answer}]
            panel = {code: render.sources_html(result, assistant.index.documents, code, turn) for code in ("zh", "en")}
            yield history, {**panel, "answer": bubbles}, past

        def take(message, inbox, lang, number):
            """Runs for every question sent (trigger_mode "multiple"), at once (its own group, no limit), even
            while an answer streams: the question goes to this conversation's inbox under the number the
            browser gave it, so none is dropped and they are answered in the order sent, even when two
            arrive out of order; one sent while an answer is being written is answered next, and the user
            is told. The box was emptied in the browser as the question was sent (TAKE_JS): emptied from
            here, it would lose what was typed while this ran."""
            try:
                message = check_question(message or "")
            except ValueError as exc:
                inbox.put(number, None)  # its number is used: the questions after it do not wait for it
                gr.Warning(t(lang, "empty_question") if not (message or "").strip() else str(exc), title=t(lang, "warning"))
                return
            if inbox.put(number, message):
                gr.Info(t(lang, "queued", question=message[:40]), title=t(lang, "notice"))

        def respond(history, past, panels, inbox, lang, mode, k, doc_ids, years, answer_mode):
            """Answer every question waiting in the inbox, in order, streaming each; nothing when another
            call is answering them already."""
            if not inbox.claim():
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            try:
                while (message := inbox.next_question()) is not None:
                    for step in answer(message, history, past, lang, mode, k, doc_ids, years, answer_mode):
                        if isinstance(step, list):
                            yield step, gr.skip(), gr.skip(), gr.skip()
                            continue
                        history, panel, past = step
                        panels = list(panels) + [panel]
                        yield history, render.conversation_sources([p[lang] for p in panels], lang), past, panels
            finally:  # also when an answer failed or the page went away: the next question finds an answerer
                inbox.release()

        for trigger in (box.submit, send.click):
            trigger(take, [box, inbox, lang, sent], None, api_visibility="private", concurrency_limit=None,
                    concurrency_id="take", show_progress="hidden", js=TAKE_JS, trigger_mode="multiple").then(
                respond, [chatbot, turns, panels, inbox, lang, mode, k, docs, years, answer_mode],
                [chatbot, sources, turns, panels], trigger_mode="always_last", api_visibility="private",
                concurrency_limit=16, concurrency_id="chat")

        def chat_api(message, history, past, mode, k, doc_ids, years, answer_mode):
            """One answer, streamed: (history, "", this answer's sources); follow-ups read this API
            session's earlier questions."""
            try:
                message = check_question(message or "")
            except ValueError as exc:
                raise gr.Error(str(exc)) from None
            for step in answer(message, history or [], past, "zh", mode, k, doc_ids, years, answer_mode):
                if isinstance(step, list):
                    yield step, "", gr.skip(), gr.skip()
                else:
                    history, panel, past = step
                    yield history, "", panel["zh"], past

        api_past = gr.State([])
        gr.Button(visible=False).click(chat_api, [box, chatbot, api_past, mode, k, docs, years, answer_mode],
                                       [chatbot, box, sources, api_past], api_name="chat",
                                       api_visibility="undocumented", concurrency_limit=16, concurrency_id="chat")
        clear.click(lambda lang: ([], "", render.sources_html(None, {}, lang), [], []), lang,
                    [chatbot, box, sources, turns, panels], api_visibility="private")

        def switch(choice, history, panels, last_eval):
            code = LANGS.get(choice, "zh")
            return [code, _intro(library.assistant, code),
                    gr.update(label=t(code, "chat_tab")), gr.update(label=t(code, "docs_tab")),
                    gr.update(label=t(code, "eval_tab")),
                    gr.update(label=t(code, "chat"), value=_relanguage(history, panels, code)),
                    gr.update(label=t(code, "question"), placeholder=t(code, "placeholder")),
                    gr.update(value=t(code, "send")), gr.update(value=t(code, "new_chat")),
                    gr.update(label=t(code, "settings")), gr.update(label=t(code, "mode"), choices=_mode_choices(code)),
                    gr.update(label=t(code, "k")), gr.update(label=t(code, "doc_filter")),
                    gr.update(label=t(code, "year_filter")),
                    gr.update(label=t(code, "answer_mode"), choices=_answer_modes(code)),
                    render.conversation_sources([p[code] for p in panels], code),
                    gr.update(label=t(code, "examples")),
                    *doc_parts.relabel(code), *eval_parts.relabel(code, last_eval)]

        # gradio words a mounted upload area once, in the language of that moment: the upload areas are
        # shown only once a language is taken, hidden until then (at load, and by relabel on a switch)
        uploads = [doc_parts.files, eval_parts.dataset]
        show = dict(fn=lambda: [gr.update(visible=True)] * len(uploads), inputs=None, outputs=uploads,
                    api_visibility="private")
        lang_pick.change(switch, [lang_pick, chatbot, panels, eval_parts.last],
                         [lang, header, chat_tab, docs_tab, eval_tab, chatbot, box, send, clear,
                          settings_box, mode, k, docs, years, answer_mode, sources,
                          example_set, *doc_parts.labelled, *eval_parts.labelled],
                         api_visibility="private", js=LOCALE_JS).then(**show)
        # an English browser's first load sets gradio's language late: shown once it speaks Chinese
        demo.load(None, None, None, js="async () => { window.qaLocale && await window.qaLocale('zh-CN'); }").then(**show)

        def refresh(lang):
            """What an upload (here or in another tab) changes: counts, filters, the documents table."""
            a = library.assistant
            return (_intro(a, lang), gr.update(choices=_doc_choices(a)), gr.update(choices=_year_choices(a)),
                    _status(library, lang), _doc_table(a, lang))

        refreshed = [header, docs, years, doc_parts.status, doc_parts.table]
        doc_parts.done.then(refresh, lang, refreshed, api_visibility="private")
        demo.load(refresh, lang, refreshed, api_visibility="private")

        def ask(question: str) -> dict:
            """Answer a question: the same JSON as `qa ask --json`; an empty, null or too long question is an error."""
            try:
                question = check_question(question)
            except ValueError as exc:
                raise gr.Error(str(exc)) from None
            assistant = library.assistant
            return assistant.answer_json(assistant.ask(question))

        gr.api(ask, api_name="ask", concurrency_limit=16, concurrency_id="chat")
    return demo


# Sending a question empties the box at once, in the browser (unless it is blank: then a warning), and
# numbers the question (the last input), so the server answers questions in the order they were sent even
# when two sent at once arrive the other way round.
TAKE_JS = """(message, inbox, lang, number) => {
  const box = document.querySelector('#qa-question textarea');
  if (box && (message || '').trim() && box.value === message) {
    box.value = '';
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }
  window.qaSent = (window.qaSent || 0) + 1;
  return [message, inbox, lang, window.qaSent];
}"""

# The language switch also sets the page's lang and gradio's own words (see render.HEAD).
LOCALE_JS = "(...args) => { window.qaLocale && window.qaLocale(args[0] === 'English' ? 'en' : 'zh-CN'); " \
            "return args; }"


class _Inbox:
    """A conversation's questions waiting for an answer, by the number the browser gave each as it was
    sent; shared by reference between the event that takes a question from the box and the one that
    answers (gradio keeps a State's object per session). One answerer at a time empties it, in order."""

    WAIT = 3.0  # seconds the answerer waits for a question sent earlier that has not arrived yet

    def __init__(self):
        self.questions: dict[int, str | None] = {}  # None: a question refused as it came (empty, too long)
        self.next = 1  # the number of the question to answer next
        self.busy = False  # an answerer is emptying the inbox
        self.lock = threading.Condition()

    def put(self, number, message: str | None) -> bool:
        """File a question under its number; whether it waits behind another (the user is told)."""
        with self.lock:
            number = int(number or 0) or max([self.next - 1, *self.questions]) + 1
            waits = self.busy or self._waiting()
            self.questions[number] = message
            self.lock.notify_all()
            return waits and message is not None

    def claim(self) -> bool:
        """Become the answerer, unless one is at work (it answers what came) or no question waits."""
        with self.lock:
            if self.busy or not self._waiting():
                return False
            self.busy = True
            return True

    def _waiting(self) -> bool:
        return any(m is not None for m in self.questions.values())

    def release(self):
        with self.lock:
            self.busy = False

    def next_question(self) -> str | None:
        """The next question in the order sent, or None when the inbox is empty (the answerer ends).
        A gap in the numbers is waited for a moment: that question was sent first and is on its way."""
        with self.lock:
            while True:
                deadline = time.monotonic() + self.WAIT
                while self.next not in self.questions and self._waiting() and time.monotonic() < deadline:
                    self.lock.wait(deadline - time.monotonic())
                if not self._waiting():  # none, or only refused ones: their numbers are used
                    self.next = max([self.next - 1, *self.questions]) + 1
                    self.questions.clear()
                    self.busy = False
                    return None
                number = self.next if self.next in self.questions else min(self.questions)
                message = self.questions.pop(number)
                self.next = number + 1
                if message is not None:
                    return message


def _role(message) -> str | None:
    return message.get("role") if isinstance(message, dict) else getattr(message, "role", None)


def _relanguage(history: list, panels: list[dict], lang: str) -> list:
    """The conversation with every answer's bubble in lang (answer i's from panels[i])."""
    shown, n = [], 0
    for m in history or []:
        if _role(m) == "assistant":
            if n < len(panels) and "answer" in panels[n]:
                m = {"role": "assistant", "content": panels[n]["answer"][lang]}
            n += 1
        shown.append(m)
    return shown


def _mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, f"mode_{m}"), m) for m in MODES]


class _DocumentsTab:
    """The documents tab: index status, the table of documents, and uploading more."""

    def __init__(self, library: Library, lang_state):
        self.library = library
        a = library.assistant
        self.status = gr.Markdown(_status(library, "zh"), elem_id="qa-index-status")
        self.table = gr.Dataframe(_doc_rows(a), headers=_headers("zh"), interactive=False,
                                  label=t("zh", "docs_table"), wrap=True, elem_id="qa-docs")
        self.files = gr.File(file_count="multiple", file_types=list(loading.SUFFIXES), type="filepath",
                             label=_upload_label("zh"), elem_id="qa-upload", visible=False)  # shown on load
        self.add = gr.Button(t("zh", "add"), variant="primary", elem_id="qa-add")
        self.message = gr.Markdown(elem_id="qa-upload-message")
        with gr.Accordion(t("zh", "edit"), open=False) as self.edit_box:
            with gr.Row():
                self.edit_doc = gr.Dropdown(_doc_choices(a), label=t("zh", "edit_doc"), elem_id="qa-edit-doc")
                self.edit_field = gr.Dropdown(_field_choices("zh"), label=t("zh", "edit_field"), elem_id="qa-edit-field")
                self.edit_value = gr.Textbox(label=t("zh", "edit_value"), max_length=200, elem_id="qa-edit-value")
            self.edit_save = gr.Button(t("zh", "edit_save"), elem_id="qa-edit-save")
        self.labelled = [self.status, self.table, self.files, self.add, self.edit_box, self.edit_doc,
                         self.edit_field, self.edit_value, self.edit_save]
        # one ingest at a time, in its own concurrency group: questions never queue behind it
        self.done = self.add.click(self.upload, [self.files, lang_state],
                                   [self.status, self.table, self.message, self.files],
                                   api_name="add_documents", api_visibility="undocumented",
                                   concurrency_limit=1, concurrency_id="ingest")
        self.done.then(lambda: gr.update(choices=_doc_choices(self.library.assistant)), None, self.edit_doc,
                       api_visibility="private")
        self.edit_save.click(self.correct, [self.edit_doc, self.edit_field, self.edit_value, lang_state],
                             [self.status, self.table, self.message, self.edit_doc], api_visibility="undocumented",
                             concurrency_limit=1, concurrency_id="ingest")

    def correct(self, doc_id, field, value, lang):
        if not doc_id or not field or not (value or "").strip():
            return gr.skip(), gr.skip(), t(lang, "edit_missing"), gr.skip()
        try:
            doc = self.library.correct(doc_id, {field: value})
        except (ValueError, OSError) as exc:
            return gr.skip(), gr.skip(), render.md_text(t(lang, "error", error=exc)), gr.skip()
        done = t(lang, "edited", doc=doc.title, field=t(lang, f"field_{field}"), value=getattr(doc, field))
        return (_status(self.library, lang), _doc_table(self.library.assistant, lang), render.md_text(done),
                gr.update(choices=_doc_choices(self.library.assistant), value=doc_id))

    def _public(self, message) -> str:
        """A message shown to every user, without the server's folders."""
        text = str(message)
        root = Path(self.library.settings.index_dir)
        for folder in sorted({str(root.resolve()), str(root.resolve().parent), str(root)}, key=len, reverse=True):
            if folder not in ("", "."):
                text = text.replace(folder + "/", "").replace(folder, "index")
        return text

    def relabel(self, lang):
        return [_status(self.library, lang), gr.update(value=_doc_table(self.library.assistant, lang),
                                                       label=t(lang, "docs_table")),
                gr.update(label=_upload_label(lang), visible=False), gr.update(value=t(lang, "add")),
                gr.update(label=t(lang, "edit")), gr.update(label=t(lang, "edit_doc")),
                gr.update(label=t(lang, "edit_field"), choices=_field_choices(lang)),
                gr.update(label=t(lang, "edit_value")), gr.update(value=t(lang, "edit_save"))]

    def upload(self, paths, lang, progress=gr.Progress(track_tqdm=True)):
        if not paths:
            return gr.skip(), gr.skip(), t(lang, "no_files"), gr.skip()
        progress(0, desc=t(lang, "adding"))
        files = [(p, _original_name(p)) for p in paths]
        try:
            result = self.library.add(files, lambda f, what: progress(f, desc=t(lang, "adding")))
        except (UploadError, ValueError, OSError, RuntimeError) as exc:
            return gr.skip(), gr.skip(), render.md_text(t(lang, "error", error=self._public(exc))), gr.skip()
        finally:
            for p in paths:  # gradio's copy of the upload: saved in the index or refused, not needed any more
                _remove_cached(p)
        lines = []
        if result.report is not None:
            r = result.report
            lines.append(t(lang, "added", added=len(r.added), updated=len(r.updated), documents=r.documents,
                           passages=r.passages))
            lines += [t(lang, "ocr_low", confidence=f"{c:.2f}", source=s, page=p) for s, p, c in r.low_confidence]
        lines += [t(lang, "error", error=self._public(x)) for x in result.refused]
        return (_status(self.library, lang), _doc_table(self.library.assistant, lang),
                "\n\n".join(render.md_text(x) for x in lines), None)


def _answer_modes(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, "extractive"), "extractive"), (t(lang, "llm"), "llm")]


def _remove_cached(path: str) -> None:
    p = Path(path)
    try:  # only gradio's own temp files, never anything else
        if "gradio" in p.parts and p.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()):
            p.unlink(missing_ok=True)
    except OSError:
        pass


def _upload_label(lang: str) -> str:
    return t(lang, "upload", suffixes=" ".join(loading.SUFFIXES), mb=MAX_UPLOAD_BYTES // (1024 * 1024))


def _original_name(path: str) -> str:
    # gradio keeps the uploaded file's own name as the last part of its temp path
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _intro(a, lang: str) -> str:
    return f"## {t(lang, 'title')}\n{t(lang, 'intro', documents=len(a.index.documents), passages=len(a.index.passages))}"


def _status(library: Library, lang: str) -> str:
    a = library.assistant
    return render.md_text(t(lang, "status", documents=len(a.index.documents), passages=len(a.index.passages),
                                     model=a.index.manifest.embed_model, updated=library.updated))


def _headers(lang: str) -> list[str]:
    return [t(lang, k) for k in ("col_title", "col_date", "col_place", "col_speaker", "col_kind", "col_passages",
                                 "col_file")]


def _field_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, f"field_{f}"), f) for f in ("title", "date", "place", "speaker", "kind", "meeting")]


def _doc_table(a, lang: str) -> dict:
    """The documents table with its headers in lang (a table's headers change only with its value)."""
    return {"headers": _headers(lang), "data": _doc_rows(a)}


def _doc_rows(a) -> list[list]:
    per_doc = np.bincount(a.index.doc_rows(), minlength=len(a.index.documents))
    counts = {doc_id: int(n) for doc_id, n in zip(a.index.documents, per_doc)}
    # shown by the table component as text, never as HTML
    return [[d.title, d.date or "", d.shown("place") or "", d.shown("speaker") or "", d.shown("kind") or "", counts.get(d.doc_id, 0),
             Path(d.source).name]  # the file's name: the server's folders are nobody's business
            for d in sorted(a.index.documents.values(), key=lambda d: (d.source, d.part))]


def _doc_choices(a) -> list[tuple[str, str]]:
    return [(f"{d.title}（{d.date or '—'}）", d.doc_id)
            for d in sorted(a.index.documents.values(), key=lambda d: (d.date or "", d.title))]


def _year_choices(a) -> list[str]:
    return sorted({str(d.year) for d in a.index.documents.values() if d.year})
