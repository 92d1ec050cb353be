"""The evaluate tab: run `qa eval` on a dataset (the bundled dev set unless one is uploaded) and
show its tables and plots, with the report files to download.

Imports gradio, so `import qa` never imports this.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from qa import evalreport, evalrun, render
from qa.config import MODES
from qa.library import Library
from qa.ui_text import t

DEV_SET = Path(__file__).resolve().parent.parent / "data" / "eval" / "dev.jsonl"
DOWNLOADS = ("report.md", "metrics.json", "per_question.csv")


class EvalTab:
    def __init__(self, library: Library, lang_state):
        self.library = library
        self.intro = gr.Markdown(t("zh", "eval_intro"))
        with gr.Row():
            self.dataset = gr.File(file_types=[".jsonl", ".json"], type="filepath", label=t("zh", "eval_dataset"),
                                   elem_id="qa-eval-dataset", visible=False)  # shown on load (chat_ui)
            with gr.Column():
                self.squad = gr.Checkbox(False, label=t("zh", "eval_squad"))
                self.modes = gr.CheckboxGroup([(t("zh", f"mode_{m}"), m) for m in MODES], value=list(MODES),
                                              label=t("zh", "mode"))
                self.ks = gr.Textbox("1,3,5,10", label=t("zh", "eval_ks"), max_lines=1)
        self.run_button = gr.Button(t("zh", "eval_run"), variant="primary", elem_id="qa-eval-run")
        with gr.Row():
            self.recall = gr.Image(label="recall@k", type="filepath", interactive=False, elem_id="qa-eval-recall")
            self.by_type = gr.Image(label=t("zh", "eval_by_type"), type="filepath", interactive=False)
        self.files = gr.File(label=t("zh", "eval_files"), file_count="multiple", interactive=False)
        self.tables = gr.Markdown(elem_id="qa-eval-report")
        self.last = gr.State(None)  # the last evaluation shown, to show it again in another language
        self.labelled = [self.intro, self.dataset, self.squad, self.modes, self.ks, self.run_button,
                         self.recall, self.by_type, self.files, self.tables]
        # one evaluation at a time, in its own group: it never holds up questions
        self.run_button.click(self.run, [self.dataset, self.squad, self.modes, self.ks, lang_state],
                              [self.tables, self.recall, self.by_type, self.files, self.last],
                              api_visibility="private", concurrency_limit=1, concurrency_id="eval")

    def relabel(self, lang, last=None):
        # the dataset's upload area hidden: chat_ui shows it again, drawn in the new language
        return [t(lang, "eval_intro"), gr.update(label=t(lang, "eval_dataset"), visible=False),
                gr.update(label=t(lang, "eval_squad")),
                gr.update(label=t(lang, "mode"), choices=[(t(lang, f"mode_{m}"), m) for m in MODES]),
                gr.update(label=t(lang, "eval_ks")),
                gr.update(value=t(lang, "eval_run")), *self.plots(last, lang),
                gr.update(label=t(lang, "eval_files")),
                self.report(last, lang) if last else gr.skip()]

    @staticmethod
    def plots(last: dict | None, lang: str) -> list:
        """The plot images, their words in lang (drawn again in the other language after a switch)."""
        if not last or "out" not in last:
            return [gr.skip(), gr.update(label=t(lang, "eval_by_type"))]
        recall, by_type = evalreport.plots(last["result"], Path(last["out"]), lang)
        return [str(recall), gr.update(value=str(by_type), label=t(lang, "eval_by_type"))]

    @staticmethod
    def report(last: dict, lang: str) -> str:
        """The status line and tables of an evaluation, in lang."""
        head = t(lang, "eval_done", name=last["name"], questions=last["result"].get("questions", "?"),
                 seconds=last["result"]["seconds"])
        return f"{render.md_text(head)}\n\n{evalreport.render(last['result'], plots=False, lang=lang)}"

    def run(self, dataset, squad, modes, ks, lang, progress=gr.Progress()):
        path = Path(dataset) if dataset else DEV_SET
        if squad and not dataset:
            return render.md_text(t(lang, "eval_squad_needs_file")), None, None, None, gr.skip()
        out = Path(tempfile.mkdtemp(prefix="qa-eval-"))  # served to this user only through gradio's cache
        progress(0, desc=t(lang, "eval_running"))
        try:
            result = evalrun.run(path, self.library.settings, modes or MODES, ks, out, squad=bool(squad),
                                 progress=lambda done, total: progress(done / total, desc=t(lang, "eval_running")))
        except (ValueError, OSError, KeyError) as exc:
            return render.md_text(t(lang, "error", error=exc)), None, None, None, gr.skip()
        shown = dict(result, dataset=render.md_text(path.name))  # a file name is shown as text
        last = {"name": path.name, "result": shown, "out": str(out)}
        recall, by_type = evalreport.plots(result, out, lang)
        return self.report(last, lang), str(recall), str(by_type), [str(out / f) for f in DOWNLOADS], last
