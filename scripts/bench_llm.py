"""Figures for the llm answerer's claim check, on a scripted set built from the eval questions'
evidence, and its fallback times: `python scripts/bench_llm.py [--out FILE.json]`.

For every answerable question with evidence (data/eval/*.jsonl; the reports of ../shared/reports
where they are there), the model is shown its evidence in context as passage [1] and two other
stretches of the same report as [2] and [3], and "answers" with scripted claims:
  correct      the evidence sentence verbatim, cited [1]
  rewritten    the same with numbers written otherwise (3000 → 3,000 or 三千) and in traditional script
  fabricated   one number of it changed (87% → 88%, 2021 → 2022)
  bad citation the evidence sentence cited [4], a passage not given
  swapped name a place or person of it replaced by one the passages do not name
and the share of claims the check flags is counted for each kind. Then the fallback: the time the
llm answerer takes to give the extractive answer when the server is down (connection refused),
when it answers HTTP 500, and when it never answers (time-out 2 s); and the time from a served
model's first token to the answerer's first piece, through the scripted server (tests/llm_server.py).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from qa.claims import Source, check_answer  # noqa: E402
from qa.chunking import sentence_spans  # noqa: E402

WINDOW = 160
OTHER_PLACES = ["宁波市", "温州市", "嘉兴市", "王建国", "赵志强"]
CN = "零一二三四五六七八九"


def rows():
    for path in sorted((ROOT / "data" / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r.get("answerable") and r.get("evidence"):
                yield r


def doc_text(doc: str) -> str | None:
    for p in (ROOT / doc, ROOT.parent / "shared" / "reports" / Path(doc).name, ROOT / "data" / "corpus" / Path(doc).name):
        if p.is_file():
            return p.read_text(encoding="utf-8")
    return None


def sources_for(row, rng) -> dict[int, Source] | None:
    text = doc_text(row["doc"]) or ""
    ev = row["evidence"]
    at = text.find(ev)
    if at < 0:
        return {1: Source(1, "", ev)}  # the report is not here: the evidence alone
    first = Source(1, "", text[max(0, at - WINDOW):at + len(ev) + WINDOW])
    others = [i for i in range(0, max(1, len(text) - 2 * WINDOW), 2 * WINDOW) if abs(i - at) > 3 * WINDOW]
    picks = rng.sample(others, min(2, len(others)))
    return {1: first, **{n: Source(n, "", text[i:i + 2 * WINDOW]) for n, i in enumerate(picks, start=2)}}


def claim_of(ev: str) -> str:
    """The evidence's longest sentence with a number in it, trimmed of its end punctuation."""
    spans = [ev[a:b].strip() for a, b in sentence_spans(ev)] or [ev]
    with_numbers = [s for s in spans if re.search(r"\d", s)] or spans
    return max(with_numbers, key=len).rstrip("。！？；;，,")


def rewritten(claim: str) -> str:
    import opencc

    def fmt(m):
        digits = m.group()
        n = int(digits)
        if 1000 <= n and not claim[m.end():m.end() + 1] == "年":
            return f"{n:,}"
        if 1 <= n <= 9 and claim[m.end():m.end() + 1] in "个项家条" and "." not in claim[m.start() - 1:m.start()]:
            return CN[n]
        return digits

    out = re.sub(r"(?<![\d.,])\d+(?![\d.,])", fmt, claim)
    return opencc.OpenCC("s2t").convert(out)


def fabricated(claim: str, passage: str) -> str | None:
    """One number of the claim with its last digit changed."""
    for m in re.finditer(r"\d+(?:\.\d+)?", claim):
        s = m.group()
        changed = s[:-1] + str((int(s[-1]) + 1) % 10)
        return claim[:m.start()] + changed + claim[m.end():]
    return None


def swapped(claim: str, passage: str) -> str | None:
    import jieba.posseg

    for w in jieba.posseg.cut(claim):
        if w.flag[:2] in ("ns", "nr") and len(w.word) >= 2:
            other = next(p for p in OTHER_PLACES if p not in passage)
            return claim.replace(w.word, other, 1)
    return None


def flagged(answer: str, sources) -> bool:
    claims = check_answer(answer, sources)
    return any(not c.verified for c in claims)


def check_figures(seed: int = 0) -> dict:
    rng = random.Random(seed)
    counts = {k: [0, 0] for k in ("correct", "rewritten", "fabricated", "bad citation", "swapped name")}
    missed = []
    for row in rows():
        sources = sources_for(row, rng)
        claim = claim_of(row["evidence"])
        cases = {"correct": f"{claim}[1]。", "rewritten": f"{rewritten(claim)}[1]。",
                 "bad citation": f"{claim}[4]。"}
        if (fake := fabricated(claim, sources[1].text)) is not None:
            cases["fabricated"] = f"{fake}[1]。"
        if (name := swapped(claim, sources[1].text)) is not None:
            cases["swapped name"] = f"{name}[1]。"
        for kind, answer in cases.items():
            hit = flagged(answer, sources)
            counts[kind][0] += hit
            counts[kind][1] += 1
            if hit == (kind in ("correct", "rewritten")):
                missed.append({"kind": kind, "id": row["id"], "answer": answer,
                               "reasons": [c.reason for c in check_answer(answer, sources) if c.reason]})
    return {"flagged": {k: {"share": round(a / n, 4) if n else None, "n": n} for k, (a, n) in counts.items()},
            "misses": missed[:20]}


def fallback_figures() -> dict:
    import llm_server
    from conftest import free_port

    from qa.answerers import LLM, Extractive, final
    from qa.llm import OpenAIChat
    from qa.types import Answer, Hit, Passage

    hits = [Hit(Passage("p", "d", "2019年计划拆迁3000户，新建安置房50万平方米。", 0, 24), 1.0)]
    extract = Extractive(lambda q, h: Answer(q, "2019年计划拆迁3000户[1]", None, True, [], h))
    server = llm_server.start()
    out = {}

    def timed(url, model, timeout, n):
        times, notices = [], set()
        for _ in range(n):
            t0 = time.perf_counter()
            a = final(LLM(OpenAIChat(url, model, timeout=timeout), extract, {}, timeout).stream("拆迁多少户？", hits))
            times.append(time.perf_counter() - t0)
            notices.add(a.notice.split("(")[1].split(":")[0] if a.notice else "")
        return {"median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4), "n": n,
                "why": sorted(notices)}

    out["server down"] = timed(f"http://127.0.0.1:{free_port()}/v1", "correct", 60.0, 20)
    out["HTTP 500"] = timed(server.url, "error-500", 60.0, 20)
    out["never answers (time-out 2 s)"] = timed(server.url, "silent", 2.0, 3)
    firsts = []
    for _ in range(20):  # the scripted server sends its first token at once
        t0 = time.perf_counter()
        stream = LLM(OpenAIChat(server.url, "correct"), extract, {}, 10.0).stream("拆迁多少户？", hits)
        next(stream)
        firsts.append(time.perf_counter() - t0)
        list(stream)
    out["first piece after the request (ms, median)"] = round(statistics.median(firsts) * 1000, 2)
    server.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    figures = {"claims": check_figures(), "fallback": fallback_figures()}
    for kind, f in figures["claims"]["flagged"].items():
        print(f"{kind:14} flagged {f['share']:.1%} of {f['n']}")
    for what, f in figures["fallback"].items():
        print(f"{what}: {f}")
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
