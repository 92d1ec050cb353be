"""Benchmark at scale: synthetic report-like corpora of 10k and 100k passages, fallback model.

    python scripts/bench_scale.py [--sizes 10000,100000] [--questions 421] [--langchain-path DIR] [--keep DIR]
    python scripts/bench_scale.py --lexical-only [--sizes 100000] [--keep DIR]

For each size, in a fresh temporary folder (or with --keep, in DIR/SIZE, where a corpus and index
built by an earlier run with --keep are used again: steps 1, 2 and 5 are then skipped):
1. writes a corpus made deterministically (seed 0) from the sentences of data/corpus: one report
   per file, each with a head ("2021年温州市政府工作报告", a meeting line, a date line, a speaker),
   numbered headings and paragraphs of recombined sentences, and a catalog.json describing them;
2. ingests it with `qa ingest` in a child process (the fallback model: no model is installed here),
   recording wall time, CPU time and the peak memory of its process tree (sampled /proc);
3. in another child process loads the index as `qa ask` does, records its resident memory, and
   times per query (median, ms): retrieval in bm25 and hybrid mode, the bm25s scoring the project
   calls, and LangChain's BM25Retriever (rank_bm25) over the same jieba tokens when
   langchain_community and rank_bm25 can be imported (measurement only, not a dependency:
   `pip install --target DIR langchain-community rank_bm25`, then pass --langchain-path DIR);
4. runs `qa ask --json --questions FILE` and takes the median of each answer's timings_ms.total;
5. adds a paragraph to one report and runs `qa ingest` again (the incremental path), timed.

The questions (--questions, default 421) are made from the corpus' sentences, a third of them
naming the report's year, a third its place and year. Timings vary with the machine's load:
compare rows within one run. Prints a Markdown table and writes bench/results/bench_scale.json.

--lexical-only measures the ingest alone "excluding neural encoding" (issue 14): `qa ingest` runs
in a child whose embedding model is a stand-in (`ZeroEncoder`: no model made, zero vectors written),
so reading, describing, segmenting in the workers, BM25, the dense index of the zero vectors and
saving run as in the product; then the same corpus is ingested as usual, for comparison. Nothing
is queried. With --keep the corpus in DIR/SIZE is used again, and both are ingested afresh each
time. Writes bench/results/bench_scale_lexical.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACES = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市",
          "丽水市", "广州市", "深圳市", "珠海市", "汕头市", "佛山市", "南京市", "苏州市", "无锡市", "常州市",
          "合肥市", "福州市", "厦门市", "济南市", "青岛市", "郑州市", "武汉市", "长沙市", "成都市", "西安市"]
KINDS = ["政府工作报告", "党代会报告", "全会报告"]
MEETINGS = {"政府工作报告": "{place}第十{n}届人民代表大会第{m}次会议", "党代会报告": "中国共产党{place}第{n}次代表大会",
            "全会报告": "中共{place}委{n}届{m}次全体(扩大)会议"}
SPEAKERS = ["王建国", "李明华", "张卫东", "刘志强", "陈海波", "杨光明", "赵新民", "黄立平", "周文斌", "吴永刚"]
NUMERALS = "一二三四五六七八九"
SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]")
REPORT_CHARS = 6600  # characters of paragraphs per report: about 25 passages at the default chunk size
LANGCHAIN_SECONDS = 60  # most time spent timing LangChain's queries, per size
PASSAGE_CHARS = 260  # new characters of report text per passage (400 a passage, less the overlap), measured


def sentences() -> list[str]:
    """The sentences of the bundled corpus, in a fixed order, each once."""
    seen, out = set(), []
    for path in sorted((ROOT / "data" / "corpus").glob("*.txt")):
        for s in SENTENCE.findall(path.read_text(encoding="utf-8")):
            s = s.strip()
            if 8 <= len(s) <= 160 and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def make_corpus(folder: Path, passages: int, seed: int = 0) -> list[dict]:
    """Write about `passages` passages' worth of reports into folder; returns their catalog rows."""
    rng = random.Random(seed)
    pool = sentences()
    per_report = REPORT_CHARS
    catalog = []
    for r in range(max(1, passages * PASSAGE_CHARS // per_report)):
        year, place, kind = 2000 + r % 25, PLACES[(r // 25) % len(PLACES)], KINDS[r % len(KINDS)]
        meeting = MEETINGS[kind].format(place=place, n=NUMERALS[r % 9], m=NUMERALS[(r // 9) % 9])
        speaker = SPEAKERS[r % len(SPEAKERS)]
        title = f"{year}年{place}{kind}"
        date = f"{year}-0{1 + r % 9}-{10 + r % 18}"
        lines = [title, f"——在{meeting}上的报告", f"（{year}年{1 + r % 9}月{10 + r % 18}日）", speaker, ""]
        size, heading = 0, 0
        while size < per_report:
            heading += 1
            lines.append(f"{NUMERALS[(heading - 1) % 9]}、{rng.choice(pool).rstrip('。！？；')[:20]}")
            for _ in range(rng.randint(2, 4)):
                para = "".join(rng.choice(pool) for _ in range(rng.randint(3, 7)))
                lines.append(para)
                size += len(para)
        name = f"{r:06d}-{year}-{kind}.txt"
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        catalog.append({"file": name, "part": 1, "title": title, "date": date, "speaker": speaker, "kind": kind,
                        "meeting": meeting, "place": place, "text": lines})
    (folder / "catalog.json").write_text(json.dumps(
        {"documents": [{k: v for k, v in c.items() if k != "text"} for c in catalog]}, ensure_ascii=False),
        encoding="utf-8")
    return catalog


def make_questions(catalog: list[dict], count: int, seed: int = 1) -> list[str]:
    """Questions from the reports' sentences: a fragment, with the report's year or place and year."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        report = rng.choice(catalog)
        para = rng.choice([line for line in report["text"][5:] if len(line) > 40])
        s = rng.choice(SENTENCE.findall(para) or [para])
        start = rng.randint(0, max(0, len(s) - 14))
        fragment = s[start:start + rng.randint(8, 14)].strip("，、。；：")
        year, place = report["date"][:4], report["place"]
        form = len(out) % 3
        out.append(f"{fragment}？" if form == 0 else f"{year}年{fragment}是怎样的？" if form == 1
                   else f"{place}{year}年报告里{fragment}的情况？")
    return out


# --- measuring a child process ------------------------------------------------------------------

def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc/PID/task/TID/children)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_measured(args: list[str], env: dict, cwd: Path = ROOT) -> dict:
    """Run a child; its wall and CPU seconds (with its children's), peak tree RSS and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, cwd=cwd, env=env)
        peak = [0]

        def sample():
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.5)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started  # before the join: the watcher wakes every 0.5 s
        proc.returncode = os.waitstatus_to_exitcode(status)
        watcher.join()
        out.seek(0)
        text = out.read()
        err.seek(0)
        said = err.read()[-2000:]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}… failed with exit code {proc.returncode}; it said:\n{said}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_bytes": peak[0], "stdout": text}


# --- the lexical-only ingest child ----------------------------------------------------------------

LEXICAL_DIM = 256  # the fallback model's dimension: the vector file and dense index as large as usual


def zero_encoder():
    """A stand-in for the embedding model: nothing trained or loaded, every passage's vector zero,
    written to the vector file as the fallback model's are (qa.ingest._embed takes the same path)."""
    import numpy as np

    from qa.embedding import ENCODE_BATCH, StaticEmbedder

    class ZeroEncoder(StaticEmbedder):
        def __init__(self):  # no tokenizer, no weights
            self.name, self.dim, self.query_prompt = "lexical-only-stand-in", LEXICAL_DIM, None

        def encode_passages(self, texts, batch_size: int = 32, progress: bool = False, out=None):
            if out is None:
                return np.zeros((len(texts), self.dim), np.float32)
            for start in range(0, len(texts), ENCODE_BATCH):
                out.write(np.zeros((min(ENCODE_BATCH, len(texts) - start), self.dim), np.float32))
            return out

    return ZeroEncoder()


def lexical_child(argv: list[str]) -> int:
    """`qa ingest ARGV` with the embedding model (its loading or training, and its encoding)
    replaced by zero_encoder."""
    sys.path.insert(0, str(ROOT))
    from qa import cli, ingest

    ingest._embedder = lambda old, settings, passages, tmp, report: (zero_encoder(), None, ingest.CORPUS_MODEL_WEIGHT)
    return cli.main(["ingest", *argv])


# --- the query child ----------------------------------------------------------------------------

def _rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def _times_ms(fn, items) -> list[float]:
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append(1000 * (time.perf_counter() - t))
    return times


def _median_ms(fn, items) -> float:
    return statistics.median(_times_ms(fn, items))


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def _timed(result: dict, name: str, fn, items) -> None:
    """result[name_ms] (median) and result[name_p95_ms] of fn over items."""
    times = _times_ms(fn, items)
    result[f"{name}_ms"], result[f"{name}_p95_ms"] = statistics.median(times), _p95(times)


def query_child(index_dir: str, questions_file: str, langchain_path: str | None, langchain_questions: int) -> None:
    sys.path.insert(0, str(ROOT))
    from qa.config import Settings
    from qa.lexical import tokenize
    from qa.pipeline import Assistant

    questions = [json.loads(line)["question"] for line in Path(questions_file).read_text(encoding="utf-8").splitlines()]
    before = _rss()
    t = time.perf_counter()
    assistant = Assistant(Settings(index_dir=Path(index_dir)))
    result = {"load_s": time.perf_counter() - t, "rss_loaded": _rss(), "rss_before": before,
              "documents": len(assistant.index.documents), "passages": len(assistant.index.passages)}
    retriever, index = assistant.retriever, assistant.index
    retriever.search(questions[0], 5, "hybrid")  # warm: jieba's dictionary, the first FAISS call
    _timed(result, "bm25", lambda q: retriever.search(q, 5, "bm25"), questions)
    _timed(result, "hybrid", lambda q: retriever.search(q, 5, "hybrid"), questions)
    tokens = [tokenize(q) for q in questions]
    result["bm25s_ms"] = _median_ms(index.bm25.scores, tokens)
    result["rss_after_queries"] = _rss()
    result.update(dense_child(index, assistant.embedder, questions, retriever))
    if langchain_path:
        sys.path.append(langchain_path)  # after the project's own packages: it only adds what is missing
    try:
        from langchain_community.retrievers import BM25Retriever
        import rank_bm25  # noqa: F401
    except ImportError as exc:
        result["langchain"] = f"not measured ({exc})"
    else:
        kept = index.bm25.tokens_of(range(len(index.passages)))  # the very tokens the index was built from
        texts = [" ".join(t) or "\x00" for t in kept] if kept is not None else \
            [" ".join(tokenize(f"{p.section}\n{p.text}")) or "\x00" for p in index.passages]
        del kept
        lc = BM25Retriever.from_texts(texts, preprocess_func=str.split, k=5)
        subset, times, stop = [], [], time.perf_counter() + LANGCHAIN_SECONDS
        for q in questions[:langchain_questions]:  # rank_bm25 takes ~0.3 s a query at 100k: capped in time
            t = time.perf_counter()
            lc.invoke(" ".join(tokenize(q)) or "\x00")
            times.append(time.perf_counter() - t)
            subset.append(q)
            if time.perf_counter() > stop:
                break
        result["langchain_ms"] = 1000 * statistics.median(times)
        result["langchain_questions"] = len(subset)
        result["bm25_ms_same_subset"] = _median_ms(lambda q: retriever.search(q, 5, "bm25"), subset)
    print(json.dumps(result))


def dense_child(index, embedder, questions: list[str], retriever) -> dict:
    """Single-query dense search times, exact and approximate, and the approximate one's recall@10
    of the exact top 10 on the questions (an approximate index is built here when the stored one is exact)."""
    import faiss

    from qa import dense
    from qa.retrieval import one_thread

    vectors = index.vectors()
    queries = embedder.encode_queries(questions)
    exact_keys = index.ids[dense.exact_top(vectors, queries, 10)]
    stored = index.dense
    approximate = stored if dense.is_approximate(stored) else None
    t = time.perf_counter()
    if approximate is None:
        approximate = dense.build(vectors, index.ids, vectors.shape[1], approximate_from=1)
    built = time.perf_counter() - t
    exact = dense.build(vectors, index.ids, vectors.shape[1], approximate_from=len(vectors) + 1)
    times = {}
    index.dense = approximate  # the whole hybrid search with the approximate index, then the exact one
    _timed(times, "hybrid_approx", lambda q: retriever.search(q, 5, "hybrid"), questions)
    index.dense = exact
    _timed(times, "hybrid_exact", lambda q: retriever.search(q, 5, "hybrid"), questions)
    index.dense = stored

    def timed(ix):
        with one_thread():
            return _median_ms(lambda q: ix.search(q[None, :], 200), queries)

    def timed_threads(ix):
        return _median_ms(lambda q: ix.search(q[None, :], 200), queries)

    two_step = dense.searcher(exact)
    # one thread first: after a search on all threads, OpenMP's idle threads spin a while and slow the next
    return {**times, "dense_exact_ms": timed(exact), "dense_two_step_ms": timed(two_step),
            "dense_exact_default_threads_ms": timed_threads(exact), "dense_two_step": isinstance(two_step, dense.TwoStep),
            "dense_approx_ms": timed(approximate), "dense_approx_nprobe": int(approximate.nprobe),
            "dense_approx_nlist": int(approximate.nlist), "dense_approx_build_s": built,
            "dense_approx_recall10": dense.recall(approximate.search(queries, 10)[1], exact_keys),
            "dense_stored_approximate": dense.is_approximate(stored), "faiss_threads": faiss.omp_get_max_threads()}


# --- one size -----------------------------------------------------------------------------------

def bench_size(size: int, args, env: dict) -> dict:
    def run(folder: Path) -> dict:
        return bench_lexical(folder, size, env) if args.lexical_only else bench_in(folder, size, args, env)

    if args.keep:  # the corpus (and its index) kept in KEEP/SIZE, built once, measured again and again
        folder = Path(args.keep).resolve() / str(size)
        folder.mkdir(parents=True, exist_ok=True)
        return run(folder)
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{size}-") as tmp:
        return run(Path(tmp))


def bench_in(folder: Path, size: int, args, env: dict) -> dict:
    """Ingest (unless --keep finds a build there already), query, ask, and re-ingest one changed
    report (not with --keep: the kept corpus stays as it was built)."""
    corpus, index, qfile = folder / "corpus", folder / "index", folder / "questions.jsonl"
    py = sys.executable
    kept = bool(args.keep) and (index / "CURRENT").is_file() and qfile.is_file()
    result: dict = {"size": size}
    if not kept:
        corpus.mkdir(exist_ok=True)
        catalog = make_corpus(corpus, size)
        qfile.write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n"
                                 for q in make_questions(catalog, args.questions)), encoding="utf-8")
        ingest = run_measured([py, "-m", "qa", "ingest", str(corpus), "--index", str(index), "--json"], env)
        summary = json.loads(ingest["stdout"])
        print(f"[{size}] ingested {summary['passages']} passages in {ingest['wall_s']:.1f} s", file=sys.stderr)
        result.update({"ingest_wall_s": ingest["wall_s"], "ingest_cpu_s": ingest["cpu_s"],
                       "ingest_peak_bytes": ingest["peak_bytes"],
                       "ingest_passages_per_s": summary["passages"] / ingest["wall_s"],
                       "ingest_phases": summary.get("phases", {})})
    else:
        print(f"[{size}] reusing the index in {index}", file=sys.stderr)
    child = [py, __file__, "--query-child", str(index), str(qfile), "--langchain-questions",
             str(args.langchain_questions)] + (["--langchain-path", args.langchain_path] if args.langchain_path else [])
    query = run_measured(child, env)
    q = json.loads(query["stdout"].strip().splitlines()[-1])
    ask = run_measured([py, "-m", "qa", "ask", "--json", "--questions", str(qfile), "--index", str(index)], env)
    timings = [json.loads(line)["timings_ms"] for line in ask["stdout"].splitlines() if line.strip()]
    totals = [t["total"] for t in timings]
    build = next(index.glob("build-*"))
    disk = {p.name: p.stat().st_size for p in build.iterdir() if p.is_file()}
    disk["bm25"] = sum(p.stat().st_size for p in build.glob("bm25/*"))
    result.update({"documents": q["documents"], "passages": q["passages"], **q,
                   "ask_ms_median": statistics.median(totals), "ask_ms_p95": _p95(totals),
                   "ask_retrieve_ms_median": statistics.median(t["retrieve"] for t in timings),
                   "ask_wall_per_question_ms": 1000 * ask["wall_s"] / len(totals), "disk_bytes": disk})
    if args.keep:
        return result
    reports = sorted(corpus.glob("*.txt"))
    changed = reports[len(reports) // 2]  # one report changed: a paragraph added
    changed.write_text(changed.read_text(encoding="utf-8") + "新建口袋公园四十二个，引进高层次人才二百五十六名。\n",
                       encoding="utf-8")
    again = run_measured([py, "-m", "qa", "ingest", str(corpus), "--index", str(index), "--json"], env)
    if json.loads(again["stdout"])["updated"] != [f"{corpus.name}/{changed.name}"]:
        raise RuntimeError(f"re-ingest did not update just {changed.name}: {again['stdout'][:300]}")
    result.update({"reingest_one_wall_s": again["wall_s"], "reingest_one_cpu_s": again["cpu_s"],
                   "reingest_one_inside_s": json.loads(again["stdout"])["seconds"]})
    return result


def bench_lexical(folder: Path, size: int, env: dict) -> dict:
    """Ingest the corpus in folder (made unless a kept one is there) with the stand-in encoder, then
    as usual; each into a fresh index folder."""
    import shutil

    corpus = folder / "corpus"
    if not (corpus / "catalog.json").is_file():  # written last by make_corpus
        corpus.mkdir(exist_ok=True)
        make_corpus(corpus, size)
    result: dict = {"size": size}
    for mode, head in (("lexical", [sys.executable, __file__, "--lexical-child"]),
                       ("full", [sys.executable, "-m", "qa", "ingest"])):
        index = folder / f"index-{mode}"
        shutil.rmtree(index, ignore_errors=True)
        load = os.getloadavg()[0]
        ingest = run_measured(head + [str(corpus), "--index", str(index), "--json"], env)
        summary = json.loads(ingest["stdout"])
        print(f"[{size}] {mode}: {summary['passages']} passages in {ingest['wall_s']:.1f} s", file=sys.stderr)
        result.update({"passages": summary["passages"], "documents": summary["documents"],
                       f"{mode}_model": summary["model"], f"{mode}_load_before": load,
                       f"{mode}_load_after": os.getloadavg()[0], f"{mode}_wall_s": ingest["wall_s"],
                       f"{mode}_cpu_s": ingest["cpu_s"], f"{mode}_peak_bytes": ingest["peak_bytes"],
                       f"{mode}_passages_per_s": summary["passages"] / ingest["wall_s"],
                       f"{mode}_phases": summary.get("phases", {})})
    return result


def lexical_table(results: list[dict]) -> str:
    lines = ["| | " + " | ".join(f"{r['passages']:,} passages" for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for mode, name in (("lexical", "stand-in encoder (excluding neural encoding)"), ("full", "as usual")):
        lines += [f"| ingest {name}: wall (CPU), passages/s | " + " | ".join(
                      f"{r[f'{mode}_wall_s']:.1f} s ({r[f'{mode}_cpu_s']:.0f} s), "
                      f"**{r[f'{mode}_passages_per_s']:,.0f} p/s**" for r in results) + " |",
                  f"| … phases, wall s | " + " | ".join(", ".join(
                      f"{k} {v:.1f}" for k, v in r[f"{mode}_phases"].items()) for r in results) + " |",
                  f"| … peak memory; load average (1 min) before, after | " + " | ".join(
                      f"{_mb(r[f'{mode}_peak_bytes'])}; {r[f'{mode}_load_before']:.2f}, {r[f'{mode}_load_after']:.2f}"
                      for r in results) + " |"]
    return "\n".join(lines)


def _get(r: dict, key: str, digits: int = 2) -> str:
    return f"{r[key]:.{digits}f}" if key in r else "–"


def _mb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def table(results: list[dict]) -> str:
    def row(name, fn):
        return f"| {name} | " + " | ".join(fn(r) for r in results) + " |"

    lc = lambda r: f"{r['langchain_ms']:.1f} ms ({r['langchain_questions']} q)" if "langchain_ms" in r else "–"
    lines = ["| | " + " | ".join(f"{r['passages']:,} passages" for r in results) + " |",
             "|---|" + "---|" * len(results),
             row("bm25 search, median (p95)", lambda r: f"{r['bm25_ms']:.2f} ms ({_get(r, 'bm25_p95_ms')} ms)"),
             row("hybrid search, stored index", lambda r: f"{r['hybrid_ms']:.2f} ms ({_get(r, 'hybrid_p95_ms')} ms)"),
             row("hybrid search, exact (IndexFlatIP, two-step above 20k)", lambda r: f"{_get(r, 'hybrid_exact_ms')} ms "
                                                                 f"({_get(r, 'hybrid_exact_p95_ms')} ms)"),
             row("hybrid search with an IVF fp16 index (recall below)",
                 lambda r: f"{r['hybrid_approx_ms']:.2f} ms ({_get(r, 'hybrid_approx_p95_ms')} ms)"),
             row("`qa ask` batch, per question, median total (p95)",
                 lambda r: f"{r['ask_ms_median']:.1f} ms ({_get(r, 'ask_ms_p95', 1)} ms)"),
             row("… of which retrieval (median)", lambda r: f"{r['ask_retrieve_ms_median']:.1f} ms"),
             row("`qa ask` process wall / questions", lambda r: f"{r['ask_wall_per_question_ms']:.1f} ms"),
             row("LangChain BM25Retriever (rank_bm25), same tokens", lc),
             row("bm25 search on the LangChain questions", lambda r: f"{r['bm25_ms_same_subset']:.2f} ms"
                 if "bm25_ms_same_subset" in r else "–"),
             row("raw bm25s, as the project calls it", lambda r: f"{r['bm25s_ms']:.2f} ms"),
             row("dense search alone, exact: 1 thread (default threads)",
                 lambda r: f"{r['dense_exact_ms']:.2f} ms ({r['dense_exact_default_threads_ms']:.2f} ms)"),
             row("dense search alone, two-step exact (fp16 scan, then full precision)",
                 lambda r: f"{r['dense_two_step_ms']:.2f} ms" if r.get("dense_two_step") else "– (one scan)"),
             row("dense search alone, IVF fp16: time, recall@10 on the questions",
                 lambda r: f"{r['dense_approx_ms']:.2f} ms, {r['dense_approx_recall10']:.3f} "
                           f"(nprobe {r['dense_approx_nprobe']}/{r['dense_approx_nlist']})"),
             row("dense index stored by ingest", lambda r: "IVF fp16" if r["dense_stored_approximate"] else "exact"),
             row("RAM with the index loaded (RSS)", lambda r: _mb(r["rss_loaded"])),
             row("index load", lambda r: f"{r['load_s']:.2f} s"),
             row("ingest wall (CPU)", lambda r: f"{r['ingest_wall_s']:.0f} s ({r['ingest_cpu_s']:.0f} s)"
                 if "ingest_wall_s" in r else "– (kept)"),
             row("ingest passages/s (wall)", lambda r: _get(r, "ingest_passages_per_s", 0)),
             row("ingest peak memory (process tree)", lambda r: _mb(r["ingest_peak_bytes"]) if "ingest_peak_bytes" in r else "–"),
             row("ingest phases, wall s (passages/s)", lambda r: ", ".join(
                 f"{k} {v:.1f}" + (f" ({r['passages'] / v:,.0f})" if v >= 0.5 else "")
                 for k, v in r.get("ingest_phases", {}).items()) or "–"),
             row("`qa ingest` again, one report changed: process wall (CPU), inside ingest()",
                 lambda r: f"{r['reingest_one_wall_s']:.1f} s ({r['reingest_one_cpu_s']:.1f} s), "
                           f"{r['reingest_one_inside_s']:.1f} s" if "reingest_one_wall_s" in r else "–"),
             row("on disk", lambda r: ", ".join(f"{k} {_mb(v)}" for k, v in sorted(r["disk_bytes"].items())
                                                if v > 1e6))]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="passages per corpus, comma separated")
    parser.add_argument("--questions", type=int, default=421)
    parser.add_argument("--langchain-path", help="a folder holding langchain_community and rank_bm25 (pip --target)")
    parser.add_argument("--langchain-questions", type=int, default=100,
                        help="questions timed with LangChain (it takes ~0.3 s a query at 100k)")
    parser.add_argument("--approximate-from", type=int, help="QA_APPROXIMATE_FROM for the ingest (default: the project's)")
    parser.add_argument("--keep", metavar="DIR", help="build each size's corpus and index in DIR/SIZE and reuse "
                        "them when already built (then ingest and re-ingest are not measured)")
    parser.add_argument("--lexical-only", action="store_true", help="measure only the ingest, with a stand-in "
                        "for the embedding model (excluding neural encoding), then as usual; nothing queried")
    parser.add_argument("--query-child", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    if sys.argv[1:2] == ["--lexical-child"]:
        return lexical_child(sys.argv[2:])
    args = parser.parse_args()
    if args.query_child:
        return query_child(*args.query_child, args.langchain_path, args.langchain_questions)
    # the project first, then what PYTHONPATH already names (jieba_fast installed with --target, say)
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if args.approximate_from:
        env["QA_APPROXIMATE_FROM"] = str(args.approximate_from)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        results.append(bench_size(size, args, env))
        print((lexical_table if args.lexical_only else table)(results), file=sys.stderr)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / ("bench_scale_lexical.json" if args.lexical_only else "bench_scale.json")).write_text(
        json.dumps(results, indent=2))
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    print((lexical_table if args.lexical_only else table)(results))


if __name__ == "__main__":
    sys.exit(main())
