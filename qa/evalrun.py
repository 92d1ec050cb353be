"""Run an evaluation: ask every question in every retrieval mode, score it, write the report.

`run()` is the one entry point, for the CLI (`qa eval`) and the chat app's Evaluate tab alike.
Metrics are defined in qa/metrics.py and README "Evaluation"; the files written are described in
qa/evalreport.py.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from qa import metrics as m
from qa import splits
from qa.config import MODES, ConfigError, Settings
from qa.evaluation import fold, load_dataset, load_squad, relevant_folded

DEFAULT_KS = (1, 3, 5, 10)
RANK_DEPTH = 10  # MRR@10 and nDCG@10 need the top 10 whatever the k's asked for


def run(dataset: str | Path, settings: Settings, modes=("bm25", "dense", "hybrid"), ks=DEFAULT_KS, out_dir: str | Path | None = None,
        progress: Callable[[int, int], None] | None = None, squad: bool = False, part: str = "all") -> dict:
    """Evaluate `dataset` (dev-set JSONL, or SQuAD JSON when `squad`) and return the metrics dict.

    With `out_dir`, also write there the files named in `qa.evalreport.FILES` (report.md,
    metrics.json, per_question.csv, recall_at_k.png, accuracy_by_type.png); report.md shows the
    plots by relative path. `progress(done, total)` is called after each question in each mode.
    `part` keeps one part of the fixed split (qa/splits.py): tune/holdout, or train/test for SQuAD.
    """
    modes, ks = check_modes(modes), check_ks(ks)
    started = time.perf_counter()
    if squad:
        with tempfile.TemporaryDirectory(prefix="qa-squad-") as tmp:
            rows, paragraphs = load_squad(_squad_part(Path(dataset), part, Path(tmp)))
            settings = _index_paragraphs(paragraphs, Path(tmp), settings)
            result, records = _evaluate(rows, settings, modes, ks, progress)
    else:
        rows = load_dataset(Path(dataset))
        if part not in ("all", "tune", "holdout"):
            raise ConfigError(f"--part {part} is for SQuAD files; a JSONL dataset has parts tune and holdout")
        rows = splits.select(rows, part)
        if not rows:
            raise ConfigError(f"{dataset}: no questions in part {part}")
        result, records = _evaluate(rows, settings, modes, ks, progress)
    result["dataset"] = str(dataset) + (" (SQuAD format, open-domain over its paragraphs)" if squad else "")
    result["part"] = part
    result["seconds"] = round(time.perf_counter() - started, 1)
    if out_dir is not None:
        from qa.evalreport import write_all

        write_all(result, records, Path(out_dir))
    return result


def _squad_part(path: Path, part: str, tmp: Path) -> Path:
    """The SQuAD file itself, or a copy of the paragraphs of one part of it."""
    if part == "all":
        return path
    if part not in ("train", "test"):
        raise ConfigError(f"--part {part} is for JSONL datasets; a SQuAD file has parts train and test")
    import json

    if not path.is_file():
        raise ConfigError(f"{path}: no such SQuAD file")
    subset = tmp / f"{path.stem}-{part}.json"
    subset.write_text(json.dumps(splits.squad_subset([path], part), ensure_ascii=False), encoding="utf-8")
    return subset


def check_modes(modes) -> tuple[str, ...]:
    modes = tuple(dict.fromkeys(modes.split(",") if isinstance(modes, str) else modes))
    bad = [x for x in modes if x not in MODES]
    if bad or not modes:
        raise ConfigError(f"unknown retrieval mode(s) {', '.join(bad) or '(none)'}: choose from {', '.join(MODES)}")
    return modes


def check_ks(ks) -> tuple[int, ...]:
    try:
        ks = sorted({int(k) for k in (ks.split(",") if isinstance(ks, str) else ks)})
    except ValueError:
        raise ConfigError(f"-k takes whole numbers separated by commas, like 1,3,5,10; got {ks!r}") from None
    if not ks or ks[0] < 1:
        raise ConfigError(f"-k values must be 1 or more, got {ks}")
    return tuple(ks)


def _index_paragraphs(paragraphs, folder: Path, settings: Settings) -> Settings:
    """Write each paragraph as a file (title line, then the text) and index them; the new settings."""
    from qa.ingest import ingest

    corpus = folder / "corpus"
    corpus.mkdir()
    for p in paragraphs:
        (corpus / p.name).write_text(f"{p.title}\n{p.text}\n", encoding="utf-8")
    settings = replace(settings, index_dir=folder / "index")
    ingest([corpus], settings, rebuild=True)
    return settings


def _evaluate(rows, settings: Settings, modes, ks, progress):
    from qa.pipeline import Assistant

    assistant = Assistant(settings)
    index = assistant.index
    folded = [(p.passage_id, fold(p.text), index.documents[p.doc_id].source) for p in index.passages]
    gold = {r["id"]: {pid for pid, text, source in folded if relevant_folded(r, text, source)}
            for r in rows if r["answerable"]}
    depth = max(max(ks), RANK_DEPTH)
    reranker = assistant.reranker
    # with a reranker, each mode is also run without it, so one report measures it against none
    runs = [(mode, None) for mode in modes]
    if reranker is not None:
        runs = [(mode, r) for mode in modes for r in (None, reranker)]
    total, done = len(rows) * len(runs), 0
    records = []
    try:
        for mode, assistant.reranker in runs:
            label = mode if assistant.reranker is None else f"{mode}+rerank"
            for row in rows:
                records.append({**_question(assistant, row, mode, ks, depth, gold.get(row["id"], set())),
                                "mode": label})
                done += 1
                if progress:
                    progress(done, total)
    finally:
        assistant.reranker = reranker
    modes = [mode if r is None else f"{mode}+rerank" for mode, r in runs]
    result = {"questions": len(rows), "ks": list(ks), "modes_run": list(modes),
              "settings": {"index": str(settings.index_dir), "model": index.manifest.embed_model,
                           "top_k": settings.top_k, "chunk_size": index.manifest.chunk_size,
                           "dense_weight": assistant.retriever.dense_weight, "min_confidence": settings.min_confidence,
                           "answerer": settings.answerer},
              "modes": {}}
    for mode in modes:
        mine = [r for r in records if r["mode"] == mode]
        types = sorted({r["type"] for r in mine})
        result["modes"][mode] = {"overall": summarize(mine, ks),
                                 "by_type": {t: summarize([r for r in mine if r["type"] == t], ks) for t in types}}
    return result, records


def _question(assistant, row, mode, ks, depth, gold_ids: set[str]) -> dict:
    t0 = time.perf_counter()
    hits = assistant.search(row["question"], depth, mode)
    retrieve_ms = (time.perf_counter() - t0) * 1000
    answer = assistant.ask(row["question"], assistant.settings.top_k, mode)
    docs = assistant.index.documents
    rec = {"id": row["id"], "type": row["type"], "mode": mode, "question": row["question"],
           "gold": row["answers"], "answerable": row["answerable"], "refused": not answer.answerable,
           "answer": answer.answer, "short_answer": answer.short_answer or "",
           "citations": [f"{docs[c.hit.passage.doc_id].source}:{c.hit.passage.start}-{c.hit.passage.end}"
                         for c in answer.citations],
           "retrieve_ms": round(retrieve_ms, 2), "answer_ms": answer.timings_ms.get("total", 0.0)}
    cited_texts = [c.hit.passage.text for c in answer.citations]
    if assistant.settings.answerer == "llm":
        rec.update(answerer=answer.answerer, claims=len(answer.claims), notice=answer.notice,
                   claims_verified=sum(c.verified for c in answer.claims))
    if answer.answerable:
        rec["unsupported_numbers"] = m.unsupported_numbers(answer.answer, cited_texts)
        rec["answer_chars"] = len(answer.answer)
    if not row["answerable"]:
        return rec
    ranked = [h.passage.passage_id in gold_ids for h in hits]
    for k in ks:
        rec[f"hit@{k}"] = m.hit_at(ranked, k)
        rec[f"recall@{k}"] = m.recall_at(ranked, k, len(gold_ids))
    rec["mrr@10"] = m.reciprocal_rank(ranked, 10)
    rec["ndcg@10"] = m.ndcg_at(ranked, 10, len(gold_ids))
    prediction = "" if rec["refused"] else (answer.short_answer or answer.answer)
    rec["exact_match"] = m.exact_match(prediction, row["answers"])
    rec["f1"] = m.char_f1(prediction, row["answers"])
    rec["accurate"] = float(answer.answerable and m.contains_answer(answer.answer, row["answers"]))
    flags = [c.hit.passage.passage_id in gold_ids for c in answer.citations]
    rec["cited_ok"] = float(answer.answerable and any(flags))
    rec["citation_precision"] = m.precision(flags) if answer.answerable else None
    return rec


def summarize(records: list[dict], ks) -> dict:
    """Aggregate per-question records (one mode, any subset) into the metrics of README "Evaluation"."""
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    answered = [r for r in records if not r["refused"]]
    out = {"questions": len(records), "answerable": len(ans), "unanswerable": len(una)}
    if ans:
        for k in ks:
            out[f"hit@{k}"] = m.mean(r[f"hit@{k}"] for r in ans)
        for k in ks:
            out[f"recall@{k}"] = m.mean(r[f"recall@{k}"] for r in ans)
        for key in ("mrr@10", "ndcg@10", "exact_match", "f1"):
            out[key] = m.mean(r[key] for r in ans)
        out["answer_accuracy"] = m.mean(r["accurate"] for r in ans)
        out["citation_accuracy"] = m.mean(r["cited_ok"] for r in ans)
        out["citation_precision"] = m.mean(r["citation_precision"] for r in ans)
        out["false_refusals"] = m.mean(float(r["refused"]) for r in ans)
        lengths = [r["answer_chars"] for r in ans if not r["refused"]]
        out["median_answer_chars"] = statistics.median(lengths) if lengths else None
    if una:
        out["refused_unanswerable"] = m.mean(float(r["refused"]) for r in una)
    if any("answerer" in r for r in records):  # the llm answerer: how much of what it says is checked
        checked = [r for r in answered if r.get("claims")]
        out["claims_verified"] = (sum(r["claims_verified"] for r in checked) / sum(r["claims"] for r in checked)
                                  if checked else None)
        out["answers_with_unverified_claim"] = m.mean(float(r["claims_verified"] < r["claims"]) for r in checked) if checked else None
        out["llm_fallbacks"] = m.mean(float(r["answerer"] != "llm") for r in records)
    out["unsupported_numbers"] = sum(len(r["unsupported_numbers"]) for r in answered)
    out["answers_with_unsupported_numbers"] = m.mean(float(bool(r["unsupported_numbers"])) for r in answered)
    for key in ("retrieve_ms", "answer_ms"):
        values = [r[key] for r in records]
        out[f"{key}_p50"], out[f"{key}_p95"] = m.percentile(values, 50), m.percentile(values, 95)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
