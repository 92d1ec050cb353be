"""The chat page in a real browser (Debian's Chromium through Playwright): ask, see [1], click it,
read the highlighted sentence; a follow-up; a refusal; script in a question and a document shown
as text; English. Screenshots are saved in the test's temp folder.

Skipped only when Chromium or Playwright is missing and CI is not set; under CI=true it must run
(`make test` installs Chromium).
"""

import json
import os
import shutil

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("QA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def _available():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or `make browser`)"
    return None


@pytest.fixture(scope="module")
def page(request, tmp_path_factory):
    missing = _available()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test must run in CI: {missing}")
        pytest.skip(missing)
    app_url = request.getfixturevalue("app_url")  # only started when there is a browser to drive it
    from playwright.sync_api import sync_playwright

    shots = tmp_path_factory.mktemp("screenshots")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.shots = shots
        page.shot = lambda name: page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        page.goto(app_url)
        page.wait_for_selector("#qa-question textarea", timeout=60000)
        yield page
        browser.close()
    if os.environ.get("QA_SHOTS"):  # keep a copy where a person can look at them
        shutil.copytree(shots, os.environ["QA_SHOTS"], dirs_exist_ok=True)


def ask(page, question):
    """Type a question, press Enter, wait until its answer is complete; the answer's locator."""
    bots = page.locator('#qa-chat [data-testid="bot"]')
    before = bots.count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """n => document.querySelectorAll('#qa-chat [data-testid="bot"]').length > n""", arg=before, timeout=30000)
    # complete: the sources panel gets this answer's sources after its last chunk
    page.wait_for_function("n => document.querySelector(`#qa-sources .qa-turn[data-turn='${n}']`)", arg=before,
                           timeout=30000)
    page.wait_for_timeout(600)
    return bots.nth(before)


def test_answer_cites_and_the_marker_reveals_the_highlighted_sentence(page):
    page.shot("01-home")
    answer = ask(page, "2019年计划拆迁多少户？")
    assert "3000户" in answer.inner_text()
    marker = answer.locator("a.qa-cite").first
    assert marker.inner_text() == "[1]"
    page.shot("02-answer")
    marker.click()
    active = page.locator("#qa-sources .qa-src.qa-active")
    active.wait_for(timeout=5000)
    assert active.get_attribute("id") == "src-0-1"  # source 1 of answer 0
    assert "2019年计划拆迁3000户" in active.locator(".qa-passage mark").inner_text()
    assert "2019年政府工作报告" in active.inner_text() and "张伟" in active.inner_text()
    active.locator("details summary").click()  # the surrounding text of the document
    assert "区第九届人民代表大会" in active.locator(".qa-context-text").inner_text()
    assert len(page.context.pages) == 1  # the marker did not open a new tab
    page.shot("03-source")


def test_follow_up_is_rewritten_and_shown(page):
    answer = ask(page, "那2020年呢？")
    assert "5000户" in answer.inner_text()
    assert "2020年计划拆迁多少户" in answer.locator("small.qa-searched").inner_text()
    page.shot("04-follow-up")


def click_marker(page, answer_index):
    """Click [1] in the answer_index-th answer; the text of the highlighted sentence in the panel."""
    page.locator('#qa-chat [data-testid="bot"]').nth(answer_index).locator("a.qa-cite").first.click()
    active = page.locator("#qa-sources .qa-src.qa-active")
    active.wait_for(state="visible", timeout=5000)
    page.wait_for_timeout(300)
    return active.locator(".qa-passage mark").inner_text()


def test_each_answers_marker_shows_its_own_source_also_after_a_language_switch(page):
    # the conversation so far: 2019 (3000户) then the follow-up 2020 (5000户)
    assert "2019年计划拆迁3000户" in click_marker(page, 0)
    page.shot("04b-first-answer-source")
    assert "2020年计划拆迁5000户" in click_marker(page, 1)
    assert "2019年计划拆迁3000户" in click_marker(page, 0)
    page.locator("#qa-question textarea").fill("")
    page.locator("#qa-question textarea").press("Enter")
    page.locator(".toast-body.warning").get_by_text("请输入问题").wait_for(timeout=5000)
    page.get_by_label("English").check()
    page.get_by_text("Sources", exact=True).first.wait_for(state="attached", timeout=5000)
    # a toast in the language left is closed at once (it would stay 10 s)
    page.locator(".toast-body").first.wait_for(state="detached", timeout=2000)
    assert "Ask a question" not in page.locator("#qa-sources").inner_text()  # the panel is kept
    assert "2019年计划拆迁3000户" in click_marker(page, 0)
    assert "Sources" in page.locator("#qa-sources").inner_text()
    page.shot("04c-english-first-answer-source")
    assert "2020年计划拆迁5000户" in click_marker(page, 1)
    page.get_by_label("中文").check()
    page.get_by_text("问题", exact=True).first.wait_for(timeout=5000)
    assert "2020年计划拆迁5000户" in click_marker(page, 1)


def test_typing_while_an_answer_streams_is_kept_and_a_second_question_is_queued(page):
    box = page.locator("#qa-question textarea")
    bots = page.locator('#qa-chat [data-testid="bot"]')
    before = bots.count()
    box.fill("2019年计划拆迁多少户？")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('#qa-question textarea').value === ''", timeout=10000)
    box.fill("2020年计划拆迁多少户？")
    box.press("Enter")  # sent while the first answer is being written: answered after it
    # typed right away (a key every 40 ms), while the question is taken and the answers stream: the box
    # was emptied as the question was sent, not when the server took it (which erased the first keys)
    box.press_sequentially("草稿", delay=40)
    page.wait_for_function("n => document.querySelector(`#qa-sources .qa-turn[data-turn='${n + 1}']`)", arg=before,
                           timeout=30000)
    page.wait_for_timeout(800)
    assert "3000户" in bots.nth(before).inner_text() and "5000户" in bots.nth(before + 1).inner_text()
    assert page.locator('#qa-chat [data-testid="user"]').last.inner_text() == "2020年计划拆迁多少户？"
    assert box.input_value() == "草稿"
    page.shot("05a-queued")
    box.fill("")


def test_refusal_says_so_and_why_and_lists_what_may_be_related(page):
    answer = ask(page, "火星基地什么时候建成？")
    assert "资料中未找到" in answer.inner_text()
    assert "原因：" in answer.inner_text() and answer.locator(".qa-why").count() == 1  # and why
    assert "可能相关" in page.locator("#qa-sources").inner_text()
    page.shot("05-refusal")


def test_context_opens_at_the_passage(page):
    answer = ask(page, "灯会共展出多少盏花灯？")
    assert "2400盏" in answer.inner_text()
    answer.locator("a.qa-cite").first.click()
    active = page.locator("#qa-sources .qa-src.qa-active")
    active.locator("details summary").click()
    page.wait_for_timeout(500)
    seen = page.evaluate("""() => {
        const box = document.querySelector('#qa-sources .qa-src.qa-active .qa-context-text');
        const mark = box.querySelector('.qa-context-passage');
        const a = box.getBoundingClientRect(), b = mark.getBoundingClientRect();
        return b.top >= a.top - 1 && b.top < a.bottom;
    }""")
    assert seen  # the passage is in view, not 1000 characters further down
    # the chat's toolbar (share, clear, copy) sits above the scrolled messages, never over the top one
    assert page.evaluate("""() => {
        const bar = document.querySelector('#qa-chat .icon-button-wrapper').getBoundingClientRect();
        return document.querySelector('#qa-chat .bubble-wrap').getBoundingClientRect().top >= bar.bottom - 1;
    }""")
    page.shot("05b-context")


def test_one_language_at_a_time(page):
    """Chinese mode: gradio's own words (upload area, toasts) and the modes are Chinese, lang is zh;
    English mode: the documents table, the upload area and lang are English."""
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    box = page.locator("#qa-question textarea")
    box.fill("   ")
    box.press("Enter")
    toast = page.locator(".toast-body.warning").last
    toast.wait_for(timeout=5000)
    assert "请输入问题" in toast.inner_text()
    title = toast.locator(".toast-title")
    assert title.evaluate("e => getComputedStyle(e, '::before').content") == '"注意"'
    assert title.evaluate("e => getComputedStyle(e).fontSize") == "0px"  # not "Warning"
    page.shot("09b-toast-zh")
    page.locator("#qa-clear").evaluate("b => b.scrollWidth <= b.clientWidth") or pytest.fail("新对话 overflows")
    answer = ask(page, "2019年计划拆迁多少户？")
    assert "简答：" in answer.inner_text()
    page.locator("#qa-settings").get_by_text("设置", exact=True).click()
    page.locator("#qa-settings").get_by_text("混合（关键词 + 向量）").wait_for(timeout=5000)
    page.get_by_role("tab", name="文档").click()
    upload = page.locator("#qa-upload").inner_text()
    assert "Drop File Here" not in upload and "拖放" in upload
    headers = page.locator("#qa-docs thead").inner_text()
    assert "标题" in headers and "文件" in headers
    cells = page.locator("#qa-docs tbody td")
    assert cells.count() and all(c.evaluate("e => e.scrollWidth <= e.clientWidth + 1") for c in cells.all())
    page.shot("10-documents-zh")
    english_browser = page.context.browser.new_page(locale="en-US")  # the page is Chinese all the same
    english_browser.goto(page.url)
    english_browser.wait_for_selector("#qa-question textarea", timeout=60000)
    english_browser.get_by_role("tab", name="文档").click()
    try:
        english_browser.locator("#qa-upload").get_by_text("拖放", exact=False).wait_for(timeout=30000)
    finally:
        english_browser.screenshot(path=str(page.shots / "10b-documents-zh-in-an-english-browser.png"), full_page=True)
    assert "Drop File Here" not in english_browser.locator("#qa-upload").inner_text()
    assert english_browser.evaluate("document.documentElement.lang") == "zh-CN"
    english_browser.close()

    page.get_by_label("English").check()
    page.get_by_text("Indexed documents").first.wait_for(timeout=5000)
    page.locator(".toast-body").first.wait_for(state="detached", timeout=10000)  # the Chinese toast is closed
    # the upload area, drawn in Chinese before the switch, is drawn again in English
    page.locator("#qa-upload").get_by_text("Drop File Here").wait_for(timeout=10000)
    page.wait_for_timeout(800)
    assert "拖放" not in page.locator("#qa-upload").inner_text()
    assert page.evaluate("document.documentElement.lang") == "en"
    headers = page.locator("#qa-docs thead").inner_text()
    assert "Title" in headers and "File" in headers and "标题" not in headers
    # every header on one line ("Speaker", not "Speake" over "r"), also in a narrow window
    page.set_viewport_size({"width": 760, "height": 1000})
    page.wait_for_timeout(500)
    assert page.evaluate("""() => [...document.querySelectorAll('#qa-docs thead th')].every(th => {
        const walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT), tops = new Set();
        for (let node; (node = walk.nextNode());) {
            if (!node.textContent.trim()) continue;
            const r = document.createRange(); r.selectNodeContents(node);
            for (const box of r.getClientRects()) tops.add(Math.round(box.top));
        }
        return tops.size <= 1; })""")
    page.shot("11a-documents-en-narrow")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.shot("11-documents-en")
    page.get_by_role("tab", name="Chat").click()
    earlier = page.locator('#qa-chat [data-testid="bot"]').last  # answered in Chinese, now said in English
    assert "Short answer: 3000户" in earlier.inner_text() and "简答" not in earlier.inner_text()
    answer = ask(page, "2019年计划拆迁多少户？")
    assert "Short answer: " in answer.inner_text() and "：" not in answer.inner_text().split("Short answer")[1][:3]
    for small in answer.locator("small").all_inner_texts():  # confidence, searched for: English punctuation
        assert not set(small) & set("：（）"), small
    # the source's file, not where the server keeps it
    assert page.locator("#qa-sources .qa-turn:not(.qa-hidden) .qa-src-file").first.inner_text() == "gov-2019.txt"
    assert page.locator("#qa-clear").evaluate("b => b.scrollWidth <= b.clientWidth")
    page.locator("#qa-settings").get_by_text("hybrid (keywords + vectors)").wait_for(state="attached", timeout=5000)
    box.fill("   ")
    box.press("Enter")
    toast = page.locator(".toast-body.warning").last
    toast.wait_for(timeout=5000)
    assert "Please type a question." in toast.inner_text() and "请" not in toast.inner_text()
    assert "Warning" in toast.locator(".toast-title").inner_text()
    assert toast.locator(".toast-title").evaluate("e => getComputedStyle(e).fontSize") != "0px"
    page.shot("12-chat-en")
    page.get_by_label("中文").check()
    page.get_by_text("问题", exact=True).first.wait_for(timeout=5000)
    assert "简答：3000户" in page.locator('#qa-chat [data-testid="bot"]').last.inner_text()
    page.get_by_role("tab", name="文档").click()
    page.locator("#qa-upload").get_by_text("拖放", exact=False).wait_for(timeout=10000)
    page.get_by_role("tab", name="问答").click()
    page.locator("#qa-clear").click()
    page.wait_for_function("() => !document.querySelector('#qa-chat [data-testid=\"bot\"]')", timeout=10000)


def test_script_in_question_and_document_is_shown_as_text(page):
    ask(page, EVIL + "火星上有什么？")
    question = page.locator('#qa-chat [data-testid="user"]').last
    assert EVIL in question.inner_text()
    answer = ask(page, "火锅节有多少个摊位？")
    assert "<script>alert(2)</script>" in answer.inner_text()  # the document's own text, as text
    assert "<script>alert(1)</script>" in page.locator("#qa-sources").inner_text()  # its title
    page.locator("#qa-chat a.qa-cite").last.click()
    page.wait_for_timeout(500)
    assert page.locator('img[src="x"]').count() == 0
    assert page.dialogs == []
    page.shot("06-injection")


def test_upload_in_the_documents_tab(page, tmp_path):
    path = tmp_path / "<img src=x onerror=alert(3)>舞龙.txt"
    path.write_text("舞龙表演安排<script>alert(4)</script>\n舞龙表演在元宵节举行，共有舞龙队18支。\n", encoding="utf-8")
    page.get_by_role("tab", name="文档").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(path))
    page.locator("#qa-add").click()
    page.locator("#qa-upload-message").get_by_text("已导入").wait_for(timeout=60000)
    table = page.locator("#qa-docs").inner_text()
    assert "舞龙表演安排<script>alert(4)</script>" in table and "img_src_x_onerror_alert(3)舞龙.txt" in table
    assert page.locator('img[src="x"]').count() == 0 and page.dialogs == []
    page.shot("08-documents")
    other = page.context.browser.new_page()  # another user opening the page now sees the new document
    other.goto(page.url)
    other.get_by_role("tab", name="文档").click()
    other.locator("#qa-docs").get_by_text("舞龙表演安排", exact=False).wait_for(timeout=30000)
    assert other.locator("#qa-header").inner_text() == page.locator("#qa-header").inner_text()
    other.close()
    page.get_by_role("tab", name="问答").click()
    answer = ask(page, "舞龙表演共有多少支舞龙队？")
    assert "18支" in answer.inner_text()


def test_evaluate_tab_runs_an_uploaded_dataset_and_shows_tables_and_plots(page, tmp_path):
    rows = [
        {"id": "e1", "question": "2019年计划拆迁多少户？", "answers": ["3000户"], "evidence": "2019年计划拆迁3000户",
         "doc": "gov-2019.txt", "type": "number", "answerable": True},
        {"id": "e2", "question": "2020年计划拆迁多少户？", "answers": ["5000户"], "evidence": "2020年计划拆迁5000户",
         "doc": "gov-2020.txt", "type": "number", "answerable": True},
        {"id": "e3", "question": "火星基地的建设进度如何？", "answers": [], "evidence": "", "doc": "",
         "type": "unanswerable", "answerable": False},
    ]
    dataset = tmp_path / "mini<b>.jsonl"
    dataset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    page.get_by_role("tab", name="评测").click()
    page.locator("#qa-eval-dataset input[type=file]").set_input_files(str(dataset))
    page.locator("#qa-eval-run").click()
    report = page.locator("#qa-eval-report")
    report.locator("table").first.wait_for(timeout=120000)
    text = report.inner_text()
    assert ".jsonl" in text and "3 个问题" in text
    assert "hit@5" in text and "答案准确率" in text and "unanswerable" in text and "answer accuracy" not in text
    page.wait_for_function("() => [...document.querySelectorAll('#qa-eval-recall img')].some(i => i.naturalWidth > 0)",
                           timeout=30000)
    assert page.locator('img[src="x"]').count() == 0 and page.dialogs == []
    page.shot("09-evaluate")
    page.get_by_role("tab", name="问答").click()


def test_english_and_new_conversation(page):
    page.get_by_label("English").check()
    page.get_by_text("Question", exact=True).first.wait_for(timeout=5000)
    page.get_by_text("Example questions").first.wait_for(timeout=5000)
    answer = ask(page, "火星基地什么时候建成？")
    assert "No content directly relevant" in answer.inner_text()
    assert "May be related" in page.locator("#qa-sources").inner_text()
    page.shot("07-english")
    page.locator("#qa-clear").click()
    page.wait_for_function("() => !document.querySelector('#qa-chat [data-testid=\"bot\"]')", timeout=10000)
    page.get_by_label("中文").check()


def test_a_streamed_llm_answer_marks_its_unverified_claim(page):
    """Answer mode llm (the scripted server's "mixed" reply, streamed): the words appear while they
    come, then the checked answer marks the made-up number and says why."""
    if not page.locator("#qa-answer-mode input").is_visible():
        page.locator("#qa-settings .label-wrap").first.click()
    page.locator("#qa-answer-mode input").click()
    page.get_by_role("option", name="大模型生成（逐条核对引用）").click()
    bots = page.locator('#qa-chat [data-testid="bot"]')
    before = bots.count()
    box = page.locator("#qa-question textarea")
    box.fill("2019年计划拆迁多少户？")
    box.press("Enter")
    # streamed: part of the model's answer is shown before the checked answer (its claim count) arrives
    page.wait_for_function(
        """n => { const b = document.querySelectorAll('#qa-chat [data-testid="bot"]');
                 return b.length > n && b[n].innerText.includes('2019年') && !b[n].querySelector('.qa-confidence'); }""",
        arg=before, timeout=30000)
    page.shot("10-llm-streaming")
    answer = bots.nth(before)
    answer.locator(".qa-confidence").wait_for(timeout=30000)
    page.wait_for_timeout(600)
    flagged = answer.locator(".qa-unverified")
    assert flagged.count() == 1 and flagged.inner_text().endswith("新建安置房80万平方米")
    text = answer.inner_text()
    assert "已核实 1/2 条陈述" in text and "所引段落 [1] 中没有 80万平方米" in text
    assert "2019年计划拆迁3000户" in text
    assert "<mark>" not in text and "2019年计划拆迁3000户，新建安置房50万平方米" in page.locator(
        "#qa-sources .qa-passage mark").first.inner_text()
    page.shot("11-llm-unverified")
    follow = ask(page, "那2020年呢？")  # the model makes the follow-up stand alone; shown as today
    assert "2020年城中村改造计划拆迁多少户？" in follow.locator("small.qa-searched").inner_text()
    page.locator("#qa-answer-mode input").click()  # back to the default for any test after this one
    page.get_by_role("option", name="抽取式（原文句子）").click()
