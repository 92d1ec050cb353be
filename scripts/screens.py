"""Screenshots of the chat app as a newcomer uses it, in Chinese and in English, for a person to look at.

    python scripts/screens.py [--index index] [--out /tmp/shots]

Starts `python app.py` on the index (the bundled corpus) and drives Debian's Chromium through
issue 12's items: [1] of an earlier answer, a follow-up, a refusal, typing while an answer streams,
the surrounding text, the documents table and upload area, toasts, an evaluation's plots; then the
same page in English. Prints what each shot should show next to its file name; nothing is asserted
(tests/test_browser.py does that).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QA_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
BOTS = '#qa-chat [data-testid="bot"]'


def serve(index: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "QA_STREAM_PAUSE": "0.06"}
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit("the app did not start")
            time.sleep(0.3)


def ask(page, question: str):
    before = page.locator(BOTS).count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("n => document.querySelector(`#qa-sources .qa-turn[data-turn='${n}']`)", arg=before,
                           timeout=60000)
    answer = page.locator(BOTS).nth(before)
    answer.scroll_into_view_if_needed()  # the chat follows only while it is at its end
    page.wait_for_timeout(500)
    return answer


def click_marker(page, n: int) -> None:
    page.locator(BOTS).nth(n).locator("a.qa-cite").first.click()
    page.wait_for_timeout(800)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "qa-shots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = serve(args.index.resolve(), port)
    shots = []

    def shot(page, name, what):
        path = args.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append((path, what))

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#qa-question textarea", timeout=60000)
            page.wait_for_timeout(1500)
            shot(page, "zh-01-home", "page in Chinese; 新对话 fits its button")
            ask(page, "拱墅区2016年上半年地区生产总值增长了多少？")  # the 2020 report gives no GDP: refused
            ask(page, "那固定资产投资呢？")
            shot(page, "zh-02-follow-up", "item 4: the follow-up searched with 拱墅区 and 2016年上半年 kept")
            click_marker(page, 0)
            shot(page, "zh-03-first-marker", "item 1: [1] of the first answer shows the first answer's source")
            ask(page, "宁波的城中村改造要拆迁多少户？")
            shot(page, "zh-04-refusal", "item 4: a refusal says why and shows the closest sentence")
            ask(page, "全域征迁清零大会战要怎么打？")
            shot(page, "zh-05-markdown", "item 7: no ** in the answer, the highlight or the passage; the title "
                                         "is not repeated in the section path (item 9)")
            active = page.locator("#qa-sources .qa-turn:not(.qa-hidden) .qa-src").first
            active.locator("details summary").click()
            page.wait_for_timeout(800)
            shot(page, "zh-06-context", "item 9: 查看上下文 opens at the passage; toolbar above the messages")
            box = page.locator("#qa-question textarea")
            before = page.locator(BOTS).count()
            box.fill("2017年计划拆迁多少户？")
            box.press("Enter")
            page.wait_for_timeout(300)
            box.fill("2016年上半年拱墅区地区生产总值是多少？")
            box.press("Enter")
            box.press_sequentially("草稿，还没写完", delay=40)
            page.wait_for_timeout(700)
            shot(page, "zh-07-queued", "item 3: the second question is queued and said so; the draft is kept")
            page.wait_for_function("n => document.querySelector(`#qa-sources .qa-turn[data-turn='${n}']`)",
                                   arg=before + 1, timeout=60000)
            box.fill("")
            box.press("Enter")
            page.wait_for_timeout(700)
            shot(page, "zh-08-toast", "item 8: an empty question: a Chinese toast, titled 注意")
            page.locator("#qa-settings").get_by_text("设置", exact=True).click()
            page.wait_for_timeout(500)
            shot(page, "zh-09-settings", "item 8: retrieval modes in Chinese")
            page.get_by_role("tab", name="文档").click()
            page.wait_for_timeout(800)
            shot(page, "zh-10-documents", "items 8, 9: table headers in Chinese, whole file names; upload area 拖放")
            dataset = args.out / "mini.jsonl"
            rows = [json.loads(line) for line in (ROOT / "data" / "eval" / "dev.jsonl").read_text().splitlines()[:6]]
            dataset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
            page.get_by_role("tab", name="评测").click()
            page.locator("#qa-eval-dataset input[type=file]").set_input_files(str(dataset))
            page.locator("#qa-eval-run").click()
            page.locator("#qa-eval-report table").first.wait_for(timeout=300000)
            page.wait_for_function("() => [...document.querySelectorAll('#qa-eval-recall img')]"
                                   ".some(i => i.naturalWidth > 0)", timeout=60000)
            shot(page, "zh-11-evaluate", "items 2, 8: plots with Latin letters and digits; report in Chinese")

            page.get_by_label("English").check()
            page.get_by_text("Indexed documents").first.wait_for(state="attached", timeout=10000)
            page.wait_for_timeout(2500)
            shot(page, "en-11-evaluate", "item 8: the evaluation's status and tables in English")
            page.get_by_role("tab", name="Documents").click()
            page.wait_for_timeout(1500)
            shot(page, "en-10-documents", "item 8: headers and upload area in English")
            page.get_by_role("tab", name="Chat").click()
            page.wait_for_timeout(500)
            click_marker(page, 0)
            shot(page, "en-03-first-marker", "item 1: after the switch, [1] of the first answer still shows its "
                                             "source; earlier answers said in English")
            page.locator("#qa-question textarea").fill("")
            page.locator("#qa-question textarea").press("Enter")
            page.wait_for_timeout(700)
            shot(page, "en-08-toast", "item 8: the empty-question toast in English")
            ask(page, "Mars base?")
            shot(page, "en-04-refusal", "items 4, 8: a refusal in English with English punctuation")
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
    for path, what in shots:
        print(f"{path}  {what}")


if __name__ == "__main__":
    main()
