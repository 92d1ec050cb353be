"""Notices and claim reasons follow the reader's language: Chinese in the CLI and the Chinese app,
English in the English app; the JSON keeps the English text."""

import re

import pytest

from qa.claims import Claim, Source, check
from qa.notices import claim_reason, notice_text
from qa.render import answer_message
from qa.types import Answer

CJK = re.compile(r"[\u4e00-\u9fff]")

# every reason an LLM fallback gives (qa/answerers.py, qa/llm.py), as the code words it
FALLBACK_REASONS = [
    ("no language model configured (set QA_LLM_URL or QA_LLM_PATH)", "未配置大模型"),
    ("no passages retrieved", "没有检索到段落"),
    ("timed out after 2 s", "2 秒内没有答完"),
    ("timed out", "已超时"),
    ("cannot reach 127.0.0.1:9: [Errno 111] Connection refused", "无法连接 127.0.0.1:9：[Errno 111]"),
    ("server answered HTTP 500: boom", "服务器返回 HTTP 500：boom"),
    ("server error in stream: overloaded", "流式回复中服务器报错：overloaded"),
    ("stream broken: Connection reset", "流式回复中断"),
    ("stream ended before the answer was complete", "回答不完整"),
    ("malformed stream event: no choices", "流式回复格式不对"),
    ("malformed reply: content is not text", "content 不是文字"),
    ("malformed reply: not a JSON object", "不是 JSON 对象"),
    ("malformed reply (not JSON): b'<html>'", "回复不是 JSON"),
    ("malformed reply: no choices[0].message.content", "回复格式不对"),
    ("reply broken: IncompleteRead", "回复中断"),
    ("no model named (QA_LLM_MODEL) and the server lists none at /models", "没有指定模型"),
    ("not an http(s) URL: 'ftp://x'", "不是 http(s) 地址"),
    ("/m has no chat template (tokenizer_config.json chat_template)", "/m 没有对话模板"),
    ("the model's chat template cannot render these messages", "对话模板无法处理"),
    ("the model's chat template cannot render these messages (no tool role)", "对话模板无法处理这些消息（no tool role）"),
    ("the local model needs transformers and torch (No module named 'torch')", "本地模型需要"),
    ("cannot load the model folder /m: bad config", "无法加载模型文件夹 /m：bad config"),
    ("generation failed: boom", "生成失败：boom"),
    ("model error: RuntimeError: CUDA out of memory", "模型出错：RuntimeError"),
    ("the model returned no text", "没有返回任何文字"),
    ("the model's answer has no words", "没有实际内容"),
]


@pytest.mark.parametrize("why, zh", FALLBACK_REASONS)
def test_fallback_notices_are_chinese_in_chinese(why, zh):
    notice = f"LLM unavailable ({why}); extractive answer shown"
    said = notice_text(notice, "zh")
    assert said.startswith("大模型不可用（") and said.endswith("），改为给出抽取式回答") and zh in said
    english = re.split(r"[:(]", why)[0].strip()  # what follows is a server's or library's own text
    assert english not in said and not said.startswith("LLM"), said
    assert notice_text(notice, "en") == notice


def test_every_llm_error_message_is_among_the_cases_above():
    """Each LLMError message written in qa/llm.py (its fixed start) is one FALLBACK_REASONS checks."""
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "qa" / "llm.py").read_text(encoding="utf-8")
    starts = set(re.findall(r'LLMError\(f?"([^"{]*)', source))
    starts.discard("the rewritten question is not one line")  # rewrite() catches it: never a notice
    starts.discard("")  # f"{self.path} has no chat template (…)", the "/m has no chat template" case
    assert len(starts) >= 15
    for start in starts:
        assert any(why.startswith(start) for why, _ in FALLBACK_REASONS), start


def test_answer_notices_are_translated_and_unknown_ones_kept():
    assert notice_text("answer converted to the question's script", "zh") == "回答已转换为提问所用的简体或繁体"
    assert "提问的语言" in notice_text("the model answered in another language than the question's", "zh")
    assert notice_text("something new", "zh") == "something new"
    assert notice_text(None, "zh") == "" and notice_text("", "en") == ""


def test_claim_reasons_follow_the_language():
    sources = {1: Source(1, "《报告》", "2019年计划拆迁3000户。")}
    absent = check(Claim("计划拆迁4000户", [1]), sources)
    not_given = check(Claim("计划拆迁3000户", [7]), sources)
    bare = check(Claim("计划拆迁3000户", []), sources)
    assert claim_reason(absent, "zh") == "所引段落 [1] 中没有 4000户"
    assert claim_reason(absent, "en") == "4000户 not in [1]" == absent.reason
    assert claim_reason(not_given, "zh") == "引用的 [7] 不是给出的段落（给出的是 1–1）"
    assert claim_reason(bare, "zh") == "没有标注出处" and claim_reason(bare, "en") == "no citation"


def test_app_bubble_shows_the_notice_in_its_language():
    a = Answer("问？", "2019年计划拆迁3000户。", None, True, [], [], confidence=0.9,
               notice="LLM unavailable (timed out after 5 s); extractive answer shown")
    zh, en = answer_message(a.answer, "zh", result=a), answer_message(a.answer, "en", result=a)
    assert "大模型不可用（5 秒内没有答完，已超时），改为给出抽取式回答" in zh and "LLM unavailable" not in zh
    assert "LLM unavailable (timed out after 5 s); extractive answer shown" in en


def test_app_bubble_gives_the_unverified_reason_in_its_language():
    c = check(Claim("新建安置房80万平方米", [1]), {1: Source(1, "", "新建安置房50万平方米。")})
    a = Answer("问？", "新建安置房80万平方米[1]", None, True, [], [], claims=[c], answerer="llm")
    assert "中没有 80万平方米" in answer_message(a.answer, "zh", result=a)
    assert "Not verified: “新建安置房80万平方米” (80万平方米 not in \\[1\\])" in answer_message(a.answer, "en", result=a)
