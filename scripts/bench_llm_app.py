"""Time from a served model's first token to the first words of the answer in the browser:
`python scripts/bench_llm_app.py [-n 10]`.

Starts the scripted chat-completions server (tests/llm_server.py, script "mixed": 3 characters
every 0.12 s), ingests a two-report corpus into a temporary index, serves `app.py` with
QA_LLM_URL pointing at the server, and asks in the chat with the answer mode set to the language
model, in Debian's Chromium through Playwright. The server notes when it sends its first token;
the page, polled every 5 ms, notes when the new answer first shows text. Both clocks are this
machine's wall clock. Prints the median and the maximum over n questions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

DOCS = {"gov-2019.txt": "2019年政府工作报告\n(2019年1月10日)\n张伟\n一、城中村改造\n2019年计划拆迁3000户，新建安置房50万平方米。\n",
        "gov-2020.txt": "2020年政府工作报告\n(2020年1月9日)\n李娜\n一、城中村改造\n2020年计划拆迁5000户，新建安置房80万平方米。\n"}
SHOWN = """n => { const b = document.querySelectorAll('#qa-chat [data-testid="bot"]');
             return b.length > n && b[n].innerText.trim().length > 0 ? Date.now() : 0; }"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    import llm_server
    from conftest import free_port
    from playwright.sync_api import sync_playwright

    server = llm_server.start()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "docs").mkdir()
    for name, body in DOCS.items():
        (tmp / "docs" / name).write_text(body, encoding="utf-8")
    env = {**os.environ, "QA_LLM_URL": server.url, "QA_LLM_MODEL": "mixed", "QA_ANSWERER": "llm",
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(tmp / "docs"), "--index", str(tmp / "index")],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    app = subprocess.Popen([sys.executable, "app.py", "--index", str(tmp / "index"), "--port", str(port)],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        lags = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#qa-question textarea", timeout=60000)
            for i in range(args.n):
                before = page.locator('#qa-chat [data-testid="bot"]').count()
                page.locator("#qa-question textarea").fill(f"{2019 + i % 2}年计划拆迁多少户？")
                page.locator("#qa-question textarea").press("Enter")
                try:
                    shown_ms = page.wait_for_function(SHOWN, arg=before, polling=5, timeout=30000).json_value()
                except Exception:
                    page.screenshot(path=str(tmp / "failed.png"), full_page=True)
                    raise SystemExit(f"no answer shown; see {tmp / 'failed.png'}")
                first = server.requests[-1].get("first_token_at")
                lags.append(shown_ms / 1000 - first)
                page.locator('#qa-chat [data-testid="bot"]').nth(before).locator(".qa-confidence").wait_for(timeout=30000)
                page.wait_for_function("() => !document.querySelector('#qa-chat .pending, #qa-chat .generating')",
                                       timeout=30000)
                page.wait_for_timeout(800)  # the last update also clears the question box
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=10)
        server.shutdown()
    print(f"server's first token → first words in the browser: median {statistics.median(lags) * 1000:.0f} ms, "
          f"max {max(lags) * 1000:.0f} ms over {len(lags)} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
