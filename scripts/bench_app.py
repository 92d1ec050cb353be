"""How the chat app feels: time to first token and to the full answer in a real browser, and 10
users asking at once while an upload is being ingested.

    python scripts/bench_app.py [--index index] [--users 10] [--rounds 3]

Serves a copy of the index (so the upload does not change yours) with app.py on a free port,
prints the numbers and saves them to bench/results/bench_app.json. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["2017年计划拆迁多少户？", "2016年上半年拱墅区地区生产总值是多少？", "區委常委會多久召開一次集中點評會？",
             "2017年政府工作报告提出全年完成拆迁多少户？", "宁波市2017年计划拆迁多少户？"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# In the page: time from the Enter keydown to the first answer text, and to the sources panel
# being rewritten (the last thing the answer event sends).
WATCH = """() => {
  window.__qa = {};
  const box = document.querySelector('#qa-question textarea');
  box.addEventListener('keydown', e => { if (e.key === 'Enter') window.__qa.t0 = performance.now(); }, {once: true});
  const before = document.querySelectorAll('#qa-chat [data-testid="bot"]').length;
  const panel = () => (document.querySelector('#qa-sources .qa-sources') || {}).innerText;
  const sources = panel();
  new MutationObserver((_, obs) => {
    const bots = document.querySelectorAll('#qa-chat [data-testid="bot"]');
    if (!window.__qa.first && bots.length > before && bots[bots.length - 1].innerText.trim())
      window.__qa.first = performance.now();
    if (!window.__qa.full && panel() && panel() !== sources) {
      window.__qa.full = performance.now(); obs.disconnect();
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(index: Path, port: int, log) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                sys.exit(f"bench_app: error: the app did not start (log: {log.name})")
            time.sleep(0.5)


def browser_times(url: str, rounds: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"),
                                    args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#qa-question textarea", timeout=60000)
        for r in range(rounds):
            for q in QUESTIONS:
                page.locator("#qa-clear").click()
                page.wait_for_function("""() => !document.querySelector('#qa-chat [data-testid="bot"]')
                                       && document.querySelector('#qa-sources .qa-empty')""", timeout=30000)
                page.evaluate(WATCH)
                box = page.locator("#qa-question textarea")
                box.fill(q)
                box.press("Enter")
                page.wait_for_function("() => window.__qa.full", timeout=60000)
                t = page.evaluate("() => window.__qa")
                rows.append({"question": q, "first_token_ms": round(t["first"] - t["t0"], 1),
                             "full_answer_ms": round(t["full"] - t["t0"], 1)})
        browser.close()
    return rows


def crowd(url: str, users: int, rounds: int, upload: Path) -> dict:
    from gradio_client import Client, handle_file

    barrier = threading.Barrier(users + 1)
    latencies, errors, answered, spans = [], [], [0], []
    lock = threading.Lock()
    upload_result = {}

    def user(i):
        client = Client(url, verbose=False)
        barrier.wait()
        for r in range(rounds):
            q = QUESTIONS[(i + r) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                chat = client.predict(q, [], "hybrid", 5, [], [], "extractive", api_name="/chat")[0]
                ok = chat and chat[-1]["role"] == "assistant" and chat[-1]["content"]
            except Exception as exc:  # noqa: BLE001 - a bench reports every failure and goes on
                ok, chat = False, str(exc)
            with lock:
                spans.append((t0, time.perf_counter()))
                latencies.append((time.perf_counter() - t0) * 1000)
                answered[0] += bool(ok)
                if not ok:
                    errors.append(str(chat)[:200])

    def uploader():
        client = Client(url, verbose=False)
        barrier.wait()
        t0 = time.perf_counter()
        out = client.predict([handle_file(str(upload))], api_name="/add_documents")
        upload_result.update(seconds=round(time.perf_counter() - t0, 2), message=out[2], span=(t0, time.perf_counter()))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)] + [threading.Thread(target=uploader)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(latencies)
    u0, u1 = upload_result.pop("span", (0, 0))
    upload_result["questions_answered_while_it_ran"] = sum(1 for a, b in spans if u0 < b < u1)
    return {"users": users, "questions": users * rounds, "answered": answered[0], "errors": errors,
            "latency_ms": {"median": round(statistics.median(lat), 1), "p95": round(lat[int(0.95 * (len(lat) - 1))], 1),
                           "max": round(lat[-1], 1)},
            "wall_s": round(time.perf_counter() - started, 2), "upload": upload_result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="questions per user; browser rounds over QUESTIONS")
    parser.add_argument("--upload-kb", type=int, default=1000, help="size of the file uploaded meanwhile")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "bench_app.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns("uploads"))
        upload = Path(tmp) / "bench-upload-report.txt"  # a real ingest, not a no-op
        corpus = (ROOT / "data" / "corpus" / "003-gongshu-party-congress-common-prosperity.txt").read_text(encoding="utf-8")
        upload.write_text("基准测试上传报告\n" + (corpus + "\n") * max(1, args.upload_kb * 1000 // len(corpus.encode())), encoding="utf-8")
        port = free_port()
        with open(Path(tmp) / "app.log", "w") as log:
            proc = serve(index, port, log)
            try:
                url = f"http://127.0.0.1:{port}/"
                rows = browser_times(url, args.rounds)
                together = crowd(url, args.users, args.rounds, upload)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    first = [r["first_token_ms"] for r in rows]
    full = [r["full_answer_ms"] for r in rows]
    result = {"browser": {"questions": len(rows), "first_token_ms_median": statistics.median(first),
                          "first_token_ms_max": max(first), "full_answer_ms_median": statistics.median(full),
                          "full_answer_ms_max": max(full), "rows": rows},
              "concurrent": together, "cpus": os.cpu_count()}
    print(f"browser, {len(rows)} questions: first token median {statistics.median(first):.0f} ms "
          f"(max {max(first):.0f}), full answer median {statistics.median(full):.0f} ms (max {max(full):.0f})")
    c = together
    print(f"{c['users']} users at once, {c['questions']} questions during an upload: {c['answered']} answered, "
          f"latency median {c['latency_ms']['median']:.0f} ms, p95 {c['latency_ms']['p95']:.0f} ms, "
          f"max {c['latency_ms']['max']:.0f} ms; wall {c['wall_s']} s; upload took {c['upload'].get('seconds')} s: "
          f"{c['upload'].get('message', '')[:80]}; {c['upload'].get('questions_answered_while_it_ran')} questions "
          f"were answered while it ran")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"saved {out}")
    return 0 if c["answered"] == c["questions"] else 1


if __name__ == "__main__":
    sys.exit(main())
