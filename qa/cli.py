"""The `qa` command: ingest, ask, search, eval, docs. A stable contract: other tools parse its JSON.

User errors print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from qa.config import ANSWERERS, MODES, ConfigError, Settings
from qa.loading import SUFFIXES

EVAL_MODES = ("bm25", "dense", "hybrid")
DOC_FIELDS = ("title", "date", "place", "speaker", "kind", "meeting")
SKIPS_LISTED = 20  # files skipped listed when nothing could be indexed; the rest are counted


class UserError(Exception):
    pass


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds like Ctrl-C, so a half-written build is removed on the way out."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.run(args)
    except Terminated:
        print("qa: terminated; the index is as the last finished ingest left it", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("qa: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except ModuleNotFoundError as exc:  # run by a Python the project was not installed in
        print(f"qa: error: this Python ({sys.executable}) lacks the package {exc.name!r} that qa needs: "
              "run `make setup` once and use .venv/bin/qa (or `pip install -e .` in this Python)", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one clear line for every error a user can cause
        from qa.embedding import ModelUnavailable
        from qa.loading import LoadError
        from qa.store import IndexBusy, IndexUnusable

        if isinstance(exc, (UserError, ConfigError, IndexUnusable, IndexBusy, ModelUnavailable, LoadError,
                            ValueError, OSError)):
            print(f"qa: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(exc: Exception) -> str:
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"no space left on the device{' for ' + exc.filename if exc.filename else ''}: free some space and try again"
    if isinstance(exc, UserError):  # ours: its lines are meant (a list of the files skipped, one a line)
        return str(exc)
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:400] + "…"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="报告问答：带引用的检索式问答 / "
                                     "retrieval question answering over reports, with citations")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def common(p, retrieval=True):
        p.add_argument("--index", dest="index_dir", help="index folder (default: $QA_INDEX_DIR or ./index)")
        p.add_argument("--embed-model", help="sentence-transformers model: a name in the local cache, a "
                       "folder, or a .zip/.tar.gz of one (default: $QA_EMBED_MODEL or BAAI/bge-small-zh-v1.5)")
        if retrieval:
            p.add_argument("--mode", choices=MODES, help="retrieval mode (default: hybrid)")
            p.add_argument("-k", type=int, dest="top_k", help="passages to retrieve (default: 5)")
            p.add_argument("--doc", action="append", help="search only this document id or file (repeatable)")
            p.add_argument("--year", action="append", type=int, help="search only reports of this year (repeatable)")
            p.add_argument("--json", action="store_true", help="print JSON (one object per question)")
            p.add_argument("--questions", type=Path, help="a file of questions: JSONL with a 'question' "
                           "field, or plain text with one question a line")
        if retrieval or p.prog.split()[-1] == "eval":
            p.add_argument("--rerank", metavar="MODEL", help="reorder the fused top 20 with this cross-encoder "
                           "(folder, archive or cached name; default: $QA_RERANK, else none)")

    def answerer_flag(p):
        p.add_argument("--answerer", choices=ANSWERERS, help="who writes the answer: extractive sentences, or "
                       "llm (QA_LLM_URL / QA_LLM_PATH) with every claim checked against its citation "
                       "(default: $QA_ANSWERER or extractive)")

    p = sub.add_parser("ingest", help="index report files and folders (incremental)")
    p.add_argument("paths", nargs="+", metavar="PATH", help=f"report files ({' '.join(SUFFIXES)}) or folders of them")
    common(p, retrieval=False)
    p.add_argument("--rebuild", action="store_true", help="start a new index instead of updating")
    p.add_argument("--chunk-size", type=int, help="passage size in characters (default: 400)")
    p.add_argument("--chunk-overlap", type=int, help="sentences repeated between passages (default: 1)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--ocr", choices=("auto", "always", "never"), help="OCR of scanned pages and pictures: auto "
                   "(pages without text, scanned pictures), always (every page), never (default: $QA_OCR or auto)")
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question", nargs="?")
    common(p)
    answerer_flag(p)
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("search", help="show the passages retrieved for a query")
    p.add_argument("question", nargs="?", metavar="query")
    common(p)
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("eval", help="evaluate retrieval, answers, citations and refusals on a dataset",
                       description="Ask every question of DATASET (data/eval/dev.jsonl format) in each retrieval "
                       "mode; write report.md, metrics.json, per_question.csv and plots to --out.")
    p.add_argument("dataset", type=Path, nargs="?", help="JSONL dataset (data/eval/dev.jsonl format)")
    common(p, retrieval=False)
    answerer_flag(p)
    p.add_argument("--squad", type=Path, metavar="FILE", help="SQuAD-format JSON (CMRC 2018, DRCD): index its "
                   "paragraphs into a temporary corpus and evaluate open-domain QA over them")
    p.add_argument("--part", choices=("tune", "holdout", "train", "test", "all"), default="all",
                   help="evaluate one part of the fixed split (qa/splits.py): tune or holdout for a JSONL dataset, "
                   "train or test for --squad (default: all)")
    p.add_argument("--modes", default=",".join(EVAL_MODES), help="retrieval modes, comma separated "
                   "(default: bm25,dense,hybrid)")
    p.add_argument("-k", dest="ks", default="1,3,5,10", help="k's for hit@k and recall@k (default: 1,3,5,10)")
    p.add_argument("--out", type=Path, default=Path("eval-report"), help="report folder (default: ./eval-report)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"),
                   help="print B − A for two metrics.json files instead of evaluating")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("docs", help="list the indexed reports and their metadata; `qa docs set` corrects it",
                       description="List every indexed report with its title, date, place, speaker, meeting and "
                       "kind, and where each value came from. `qa docs set DOC_ID --date 2025-01-15 …` records a "
                       "correction in <index>/overrides.json, which is applied at every load and kept across "
                       "re-ingest and --rebuild.")
    p.add_argument("action", nargs="?", metavar="set", help="set: correct DOC_ID's metadata")
    p.add_argument("doc_id", nargs="?", metavar="DOC_ID", help="a document id, as `qa docs` lists them")
    p.add_argument("--index", dest="index_dir", help="index folder (default: $QA_INDEX_DIR or ./index)")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    for name in DOC_FIELDS:
        p.add_argument(f"--{name}", help=f"set the {name}" + (" (YYYY, YYYY-MM or YYYY-MM-DD)" if name == "date" else ""))
    p.set_defaults(run=cmd_docs)
    return parser


def settings_from(args) -> Settings:
    keys = ("index_dir", "embed_model", "mode", "top_k", "chunk_size", "chunk_overlap", "ocr", "answerer", "rerank")
    return Settings.resolve(**{k: getattr(args, k, None) for k in keys})


def cmd_ingest(args) -> int:
    from qa.ingest import ingest

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:  # before any model or index is touched: a typo costs nothing and writes nothing
        raise UserError(f"no such file or folder: {', '.join(missing)}")
    settings = settings_from(args)
    report = ingest(args.paths, settings, rebuild=args.rebuild, progress=not args.json,
                    embed_model_given=bool(args.embed_model))
    from qa.loading import shown

    if not report.documents:
        raise UserError(f"nothing to index in {', '.join(map(str, args.paths))}: no readable report "
                        f"({' '.join(SUFFIXES)}); no index was written"
                        + "".join(f"\n  skipped {shown(s.path)}: {s.reason}" for s in report.skipped[:SKIPS_LISTED])
                        + (f"\n  … and {len(report.skipped) - SKIPS_LISTED} more" if len(report.skipped) > SKIPS_LISTED
                           else ""))
    for s in report.skipped:
        print(f"qa: skipped {shown(s.path)}: {s.reason}", file=sys.stderr)
    if report.notice:
        print(f"qa: {report.notice}", file=sys.stderr)
    for source, page, conf in report.low_confidence:
        print(f"qa: low OCR confidence {conf:.2f}: {source} 第{page}页 (check the scan, or its answers)", file=sys.stderr)
    if args.json:
        print(json.dumps({"documents": report.documents, "passages": report.passages, "added": report.added,
                          "updated": report.updated, "removed": report.removed, "unchanged": report.unchanged,
                          "skipped": [{"path": shown(s.path), "reason": s.reason} for s in report.skipped],
                          "model": report.model, "seconds": round(report.seconds, 2),
                          "phases": {k: round(v, 2) for k, v in report.phases.items()},
                          "ocr": {"pages": report.ocr_pages, "cached": report.ocr_cached,
                                  "low_confidence": [{"source": s, "page": p, "confidence": c}
                                                     for s, p, c in report.low_confidence]}},
                         ensure_ascii=False))
    else:
        print(f"documents: {report.documents}  passages: {report.passages}  model: {report.model}  "
              f"seconds: {report.seconds:.1f}\n"
              f"added: {len(report.added)}  updated: {len(report.updated)}  removed: {len(report.removed)}  "
              f"unchanged: {report.unchanged}  skipped: {len(report.skipped)}  index: {settings.index_dir}"
              + (f"\nOCR: {report.ocr_pages} pages ({report.ocr_cached} from the cache), "
                 f"{len(report.low_confidence)} with low confidence" if report.ocr_pages else ""))
    return 0


def _questions(args) -> list[str]:
    if args.questions and args.question:
        raise UserError("give either a question or --questions FILE, not both")
    if args.questions:
        from qa.loading import LoadError, decode

        try:
            text, _ = decode(args.questions.read_bytes())
        except (OSError, LoadError) as exc:
            raise UserError(f"{args.questions}: cannot read the questions file ({getattr(exc, 'strerror', None) or exc})") from None
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    question = json.loads(line)["question"]
                    if not isinstance(question, str):
                        raise ValueError
                    out.append(question)
                except (ValueError, KeyError, TypeError):
                    raise UserError(f"{args.questions}:{n}: expected a JSON object with a 'question' field") from None
            else:
                out.append(line)
        return out
    if not args.question or not args.question.strip():
        raise UserError("no question given: qa ask \"问题\" (or --questions FILE)")
    return [args.question]


def _assistant(args):
    from qa import store
    from qa.pipeline import Assistant

    settings = settings_from(args)
    build = store.current_build(settings.index_dir)
    if build is not None:  # checked before the model is loaded: an empty index would refuse everything
        try:
            counts = json.loads((build / "manifest.json").read_text(encoding="utf-8")).get("counts") or {}
        except (OSError, ValueError):
            counts = {}  # store.load says what is wrong with it
        if counts.get("passages") == 0:
            raise UserError(f"index {settings.index_dir} has no documents: add some with `qa ingest PATH "
                            f"--index {settings.index_dir}`")
    assistant = Assistant(settings, embed_model_given=bool(args.embed_model))
    if getattr(args, "doc", None):
        args.doc = [_doc_id(assistant, d, settings) for d in args.doc]
    return assistant


def _doc_id(assistant, given: str, settings) -> str:
    """--doc takes a document id, or a file as the index records it or as a path to it."""
    from qa.ingest import source_name

    documents = assistant.index.documents
    if given in documents or any(d.source == given for d in documents.values()):
        return given
    name = source_name(Path(given), settings.index_dir)
    if any(d.source == name for d in documents.values()):
        return name
    raise UserError(f"unknown document {given!r} for --doc: `qa docs --index {settings.index_dir}` lists the ids")


def cmd_ask(args) -> int:
    from qa.notices import notice_text

    questions = _questions(args)
    assistant = _assistant(args)
    for q in questions:
        result = assistant.ask(q, args.top_k, args.mode, args.doc, args.year)
        if result.notice:
            print(f"qa: {notice_text(result.notice)}", file=sys.stderr)
        if args.json:
            print(json.dumps(assistant.answer_json(result), ensure_ascii=False), flush=True)
        else:
            print(render_answer(assistant, result))
    return 0


def cmd_search(args) -> int:
    from qa.cleaning import plain

    questions = _questions(args)
    assistant = _assistant(args)
    for q in questions:
        hits = assistant.search(q, args.top_k, args.mode, args.doc, args.year)
        if args.json:
            print(json.dumps(assistant.search_json(q, hits), ensure_ascii=False), flush=True)
        else:
            for rank, h in enumerate(hits, start=1):
                doc = assistant.index.documents[h.passage.doc_id]
                print(f"[{rank}] {doc.title}（{doc.date or '日期不详'}）"
                      f"{h.passage.page_label + ' ' if h.passage.page else ''}{h.passage.section}  score={h.score:.4f}"
                      f"{_ocr_note(h.passage)}")
                print(f"    {plain(h.passage.text)[:200]}")
    return 0


def render_answer(assistant, result) -> str:
    from qa.cleaning import plain  # Markdown marks make the structure, not the text a reader sees
    from qa.notices import claim_reason, notice_text, refusal_reason
    from qa.render import section_path

    lines = [plain(result.answer)]
    if result.notice:
        lines.append(f"注意：{notice_text(result.notice)}")
    for c in result.claims:
        if not c.verified:
            lines.append(f"未核实：“{c.text}”（{claim_reason(c)}）")
    if result.short_answer:
        lines.append(f"简答：{result.short_answer}")
    if result.answerable and result.claims:
        lines.append(f"已核实：{sum(c.verified for c in result.claims)}/{len(result.claims)} 条陈述")
    elif result.answerable:
        lines.append(f"置信度：{result.confidence:.2f}")
    elif result.refusal:
        lines.append(f"原因：{refusal_reason(result.refusal)}（置信度 {result.confidence:.2f}）")
    if result.closest:
        doc = assistant.index.documents[result.closest.hit.passage.doc_id]
        lines.append(f"最接近的句子（未必回答问题）：《{doc.title}》“{plain(result.closest.quote)}”")
    if result.citations:
        lines.append("来源：")
        for c in result.citations:
            doc = assistant.index.documents[c.hit.passage.doc_id]
            meta = "，".join(filter(None, [doc.date, doc.shown("speaker"), section_path(c.hit.passage.section, doc.title)]))
            lines.append(f"[{c.n}] 《{doc.title}》（{meta}）\n    “{plain(c.quote)}”\n    {doc.source}"
                         f"{' ' + c.hit.passage.page_label if c.hit.passage.page else ''} 第{c.hit.passage.start}–{c.hit.passage.end}字"
                         f"{_ocr_note(c.hit.passage)}")
    elif result.hits:
        lines.append("可能相关的段落：")
        for h in result.hits[:3]:
            doc = assistant.index.documents[h.passage.doc_id]
            lines.append(f"- 《{doc.title}》：{plain(h.passage.text)[:80]}…")
    return "\n".join(lines)


def _ocr_note(passage) -> str:
    """" （扫描页，OCR 置信度 0.97）" for a passage read from a scan; "" otherwise."""
    return f"（扫描页，OCR 置信度 {passage.ocr:.2f}）" if passage.ocr is not None else ""


def cmd_eval(args) -> int:
    from qa import evalreport

    if args.compare:
        runs = []
        for path in args.compare:
            try:
                runs.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise UserError(f"{path}: not a readable metrics.json ({exc})") from None
        print(evalreport.compare(*runs))
        return 0
    if bool(args.dataset) == bool(args.squad):
        raise UserError("give a dataset (qa eval data/eval/dev.jsonl) or --squad FILE.json, one of them")
    from tqdm import tqdm

    from qa import evalrun

    settings = settings_from(args)
    modes, ks = evalrun.check_modes(args.modes), evalrun.check_ks(args.ks)
    bars = []  # made at the first question, so that an error before it prints one clean line

    def progress(done, total):
        if not bars:
            bars.append(tqdm(total=total, desc="评测 eval", unit="q", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    try:
        result = evalrun.run(args.squad or args.dataset, settings, modes, ks, args.out, progress, squad=bool(args.squad),
                             part=args.part)
    finally:
        for bar in bars:
            bar.close()
    print(evalreport.render(result, plots=False).rstrip())
    print(f"\nwrote {', '.join(str(args.out / name) for name in evalreport.FILES)}")
    return 0


def cmd_docs(args) -> int:
    from qa import overrides, store

    settings = Settings.resolve(index_dir=args.index_dir)
    index = store.load(settings.index_dir)
    given = {k: getattr(args, k) for k in DOC_FIELDS if getattr(args, k) is not None}
    if args.action not in (None, "set"):
        raise UserError(f"unknown docs action {args.action!r}; to change a document's metadata: "
                        "qa docs set DOC_ID --date 2025-01-15 (…)")
    if args.action is None:
        if given or args.doc_id:
            raise UserError("to change a document's metadata: qa docs set DOC_ID --date 2025-01-15 (…)")
        for doc in index.documents.values():
            print(json.dumps(doc_json(doc), ensure_ascii=False) if args.json else render_doc(doc))
        return 0
    if not args.doc_id:
        raise UserError("qa docs set needs a DOC_ID (`qa docs` lists them)")
    doc = index.documents.get(args.doc_id)
    if doc is None:
        raise UserError(f"unknown document id {args.doc_id!r}: `qa docs` lists the ids of index {settings.index_dir}")
    if not given:
        raise UserError(f"nothing to set: give one of {', '.join('--' + f for f in DOC_FIELDS)}")
    with store.writer_lock(settings.index_dir):
        if store.current_build(settings.index_dir) != index.folder:  # an ingest finished meanwhile
            index = store.load(settings.index_dir)
            doc = index.documents.get(args.doc_id) or doc
        overrides.set_fields(settings.index_dir, doc, given)
        store.save_documents(index)
    print(json.dumps(doc_json(doc), ensure_ascii=False) if args.json else render_doc(doc))
    return 0


def doc_json(doc) -> dict:
    return {"doc_id": doc.doc_id, "source": doc.source, "part": doc.part,
            **{k: getattr(doc, k) for k in DOC_FIELDS}, "role": doc.role, "provenance": doc.provenance}


def render_doc(doc) -> str:
    lines = [f"{doc.doc_id}  ({doc.source}, part {doc.part})"]
    for key in DOC_FIELDS:
        value = doc.shown(key)
        where = doc.provenance.get(key)
        origin = f"{where['source']}, {where['confidence']:.2f}" if where else "unknown"
        shown = f"{doc.shown('role')} {value}" if key == "speaker" and value and doc.role else value
        lines.append(f"  {key:8} {shown or '—'}  ({origin if value else 'not stated'})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
