"""The chat app: `python app.py [--index DIR] [--corpus DIR] [--host 127.0.0.1] [--port 7860]`.

Answers with the same pipeline as `qa ask`; beside each answer, the cited passages. With --corpus,
that folder is ingested first (only what changed: what `make run` does); without it, the bundled
corpus (data/corpus) is ingested when the index folder is empty. The page itself is built in
qa/chat_ui.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

from qa import store  # noqa: E402
from qa.config import ConfigError, Settings  # noqa: E402

BUNDLED = Path(__file__).resolve().parent / "data" / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="报告问答 chat app")
    parser.add_argument("--index", dest="index_dir", help="index folder (default $QA_INDEX_DIR, else ./index)")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"),
                        help="address to serve on (default $QA_HOST, else 127.0.0.1)")
    # the default stays a string so that argparse checks $QA_PORT like a flag and says so in one line
    parser.add_argument("--port", type=int, default=os.environ.get("QA_PORT", "7860"),
                        help="port (default $QA_PORT, else 7860)")
    # in this process rather than by `qa ingest` before it: imports and start-up are paid once
    parser.add_argument("--corpus", help="a folder (or file) to ingest before serving; an unchanged one is only "
                        "compared by content hashes")
    args = parser.parse_args(argv)
    try:
        settings = Settings.resolve(index_dir=args.index_dir)
        corpus = Path(args.corpus) if args.corpus else None
        if corpus is not None and not corpus.exists():
            raise ValueError(f"no such file or folder: {corpus}")
        if corpus is None and store.current_build(settings.index_dir) is None:
            print(f"索引 {settings.index_dir} 为空，正在导入内置语料 {BUNDLED} …", file=sys.stderr)
            corpus = BUNDLED
        if corpus is not None:
            from qa.ingest import ingest

            report = ingest([corpus], settings, progress=True)
            if report.notice:
                print(report.notice, file=sys.stderr)
            print(f"{corpus}: {report.documents} documents, {report.passages} passages; added {len(report.added)}, "
                  f"updated {len(report.updated)}, unchanged {report.unchanged}", file=sys.stderr)
        from qa.library import Library

        library = Library(settings)
    except (ConfigError, store.IndexUnusable, store.IndexBusy, ValueError, OSError) as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    from qa import chat_ui, render

    def terminated(signum, frame):
        print("app: terminated; an upload in progress is left out of the index (the next one tidies up)",
              file=sys.stderr, flush=True)
        raise KeyboardInterrupt  # gradio closes its server on this

    signal.signal(signal.SIGTERM, terminated)
    demo = chat_ui.build(library)
    # chat and API questions run 16 at a time in their own group; an upload's ingest in another
    demo.queue(default_concurrency_limit=16, max_size=200)
    demo.launch(server_name=args.host, server_port=args.port, css=render.CSS, head=render.HEAD,
                allowed_paths=[], max_file_size=chat_ui.MAX_UPLOAD_BYTES, show_error=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
