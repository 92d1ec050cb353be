"""The chat app: `python app.py [--index DIR] [--host 127.0.0.1] [--port 7860]`.

Answers with the same pipeline as `qa ask`; under each answer, the cited passages. If the index
folder is empty, the bundled corpus (data/corpus) is ingested first.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

from qa import store  # noqa: E402
from qa.config import Settings  # noqa: E402

BUNDLED = Path(__file__).resolve().parent / "data" / "corpus"
EXAMPLES = ["2017年计划拆迁多少户？", "2017年政府工作报告提出全年完成拆迁多少户？",
            "2016年上半年拱墅区地区生产总值是多少？", "區委常委會多久召開一次集中點評會？"]


def sources_markdown(assistant, result) -> str:
    """The cited passages (or, for a refusal, the closest ones), every text escaped."""
    e = html.escape
    if result.citations:
        parts = ["**来源**"]
        for c in result.citations:
            p, doc = c.hit.passage, assistant.index.documents[c.hit.passage.doc_id]
            meta = " · ".join(e(x) for x in (doc.date, doc.speaker, p.section) if x)
            passage = e(p.text).replace(e(c.quote), f"<mark>{e(c.quote)}</mark>", 1).replace("\n", "<br>")
            parts.append(f"[{c.n}] **《{e(doc.title)}》** {meta}<br><small>{e(doc.source)} {p.page_label}</small>"
                         f"<blockquote>{passage}</blockquote>")
        return "\n\n".join(parts)
    if result.hits:
        parts = ["**可能相关的段落**（未找到直接回答）"]
        for h in result.hits[:3]:
            doc = assistant.index.documents[h.passage.doc_id]
            parts.append(f"- 《{e(doc.title)}》 {e(h.passage.text[:120])}…")
        return "\n".join(parts)
    return ""


def build(assistant):
    import gradio as gr

    def respond(message: str, history: list):
        message = (message or "").strip()
        if not message:
            return history, "", ""
        result = assistant.ask(message)
        history = history + [{"role": "user", "content": message},
                             {"role": "assistant", "content": html.escape(result.answer)}]
        return history, "", sources_markdown(assistant, result)

    def ask_json(question: str) -> dict:
        """Same JSON as `qa ask --json`."""
        return assistant.answer_json(assistant.ask(question))

    manifest = assistant.index.manifest
    with gr.Blocks(title="报告问答") as demo:
        gr.Markdown(f"## 报告问答\n基于 {manifest.counts.get('documents', 0)} 份报告、"
                    f"{manifest.counts.get('passages', 0)} 个段落作答，每个回答都标注出处。")
        chatbot = gr.Chatbot(label="对话", height=420)
        box = gr.Textbox(label="问题", placeholder="输入问题，例如：2017年计划拆迁多少户？")
        sources = gr.Markdown(label="来源")
        gr.Examples(EXAMPLES, inputs=box, label="示例问题")
        clear = gr.Button("新对话")
        box.submit(respond, [box, chatbot], [chatbot, box, sources], api_name=False)
        clear.click(lambda: ([], "", ""), None, [chatbot, box, sources], api_name=False)
        api_q = gr.Textbox(visible=False)
        api_out = gr.JSON(visible=False)
        api_q.submit(ask_json, api_q, api_out, api_name="ask")
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="报告问答 chat app")
    parser.add_argument("--index", dest="index_dir")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", 7860)))
    args = parser.parse_args(argv)
    settings = Settings.resolve(index_dir=args.index_dir)
    if store.current_build(settings.index_dir) is None:
        from qa.ingest import ingest

        print(f"索引 {settings.index_dir} 为空，正在导入内置语料 {BUNDLED} …", file=sys.stderr)
        report = ingest([BUNDLED], settings)
        if report.notice:
            print(report.notice, file=sys.stderr)
    from qa.pipeline import Assistant

    assistant = Assistant(settings)
    build(assistant).queue(default_concurrency_limit=8).launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
