"""The answerers' notices and the claim-check reasons in the reader's language.

qa/answerers.py, qa/llm.py and qa/claims.py write them in English (the JSON API keeps that text,
so that a script can match on it); the CLI shows them in Chinese, the app in its language. A
notice not known here is shown as written.
"""

from __future__ import annotations

import re

from qa.ui_text import t

FALLBACK = re.compile(r"^LLM unavailable \((.*)\); extractive answer shown$", re.S)
# the reason inside a fallback notice (qa/answerers.py, qa/llm.py's LLMError), then the notices of
# an answer that was given (qa/answerers.same_script); {0}, {1} are the pattern's groups
WHY = [
    (r"no language model configured \(set QA_LLM_URL or QA_LLM_PATH\)",
     "未配置大模型（请设置 QA_LLM_URL 或 QA_LLM_PATH）"),
    (r"no passages retrieved", "没有检索到段落"),
    (r"timed out after (\S+) s", "{0} 秒内没有答完，已超时"),
    (r"timed out", "已超时"),
    (r"cannot reach (\S+?): (.*)", "无法连接 {0}：{1}"),
    (r"server answered HTTP (\d+): ?(.*)", "服务器返回 HTTP {0}：{1}"),
    (r"server error in stream: (.*)", "流式回复中服务器报错：{0}"),
    (r"stream broken: (.*)", "流式回复中断：{0}"),
    (r"stream ended before the answer was complete", "流式回复没有结束标记就断开了，回答不完整"),
    (r"malformed stream event: no choices", "流式回复格式不对：事件中没有 choices"),
    (r"malformed reply \(not JSON\): (.*)", "回复不是 JSON：{0}"),
    (r"malformed reply: no choices\[0\].message.content", "回复格式不对：没有 choices[0].message.content"),
    (r"malformed reply: content is not text", "回复格式不对：content 不是文字"),
    (r"malformed reply: not a JSON object", "回复格式不对：不是 JSON 对象"),
    (r"reply broken: (.*)", "回复中断：{0}"),
    (r"no model named \(QA_LLM_MODEL\) and the server lists none at /models",
     "没有指定模型（QA_LLM_MODEL），服务器的 /models 也没有列出模型"),
    (r"not an http\(s\) URL: (.*)", "不是 http(s) 地址：{0}"),
    (r"(.+) has no chat template \(tokenizer_config.json chat_template\)",
     "{0} 没有对话模板（tokenizer_config.json 的 chat_template）"),
    (r"the model's chat template cannot render these messages \((.*)\)", "模型的对话模板无法处理这些消息（{0}）"),
    (r"the model's chat template cannot render these messages", "模型的对话模板无法处理这些消息"),
    (r"the local model needs transformers and torch \((.*)\)", "本地模型需要 transformers 和 torch（{0}）"),
    (r"cannot load the model folder (.+?): (.*)", "无法加载模型文件夹 {0}：{1}"),
    (r"generation failed: (.*)", "生成失败：{0}"),
    (r"model error: (.*)", "模型出错：{0}"),
    (r"the model returned no text", "模型没有返回任何文字"),
    (r"the model's answer has no words", "模型的回答没有实际内容"),
    (r"the model answered in another language than the question's", "模型没有用提问的语言作答"),
    (r"answer converted to the question's script", "回答已转换为提问所用的简体或繁体"),
]
WHY = [(re.compile(f"^{p}$", re.S), zh) for p, zh in WHY]


def notice_text(notice: str | None, lang: str = "zh") -> str:
    """A notice of an answer in lang ("zh" or "en")."""
    if not notice or lang == "en":
        return notice or ""
    if m := FALLBACK.match(notice):
        return t(lang, "llm_fallback", why=_why(m.group(1)))
    return _why(notice)


def _why(text: str) -> str:
    return _say(text, WHY, lambda zh, groups: zh.format(*groups))


REASONS = [  # qa.answering._why's refusal reasons, in the user's language
    (re.compile(r"^nothing about (.+)$"), {"zh": "资料中没有提到“{0}”", "en": "no passage mentions {0}"}),
    (re.compile(r"^the reports found are about another place than (.+)$"),
     {"zh": "找到的报告讲的是别的地方，不是{0}", "en": "the reports found are about another place than {0}"}),
    (re.compile(r"^the sentence found gives an amount, not the change asked$"),
     {"zh": "找到的句子只给出数量，没有说问的增减变化", "en": "the sentence found gives an amount, not the change asked"}),
    (re.compile(r"^the number found \((.+)\) is not in the unit asked \((.+)\)$"),
     {"zh": "找到的数字（{0}）不是问的单位（{1}）", "en": "the number found ({0}) is not in the unit asked ({1})"}),
    (re.compile(r"^the sentence found holds no number that answers it$"),
     {"zh": "找到的句子里没有回答该问题的数字", "en": "the sentence found holds no number that answers it"}),
    (re.compile(r"^the sentence found holds no date that answers it$"),
     {"zh": "找到的句子里没有回答该问题的日期", "en": "the sentence found holds no date that answers it"}),
    (re.compile(r"^the sentence found gives a target, not the result asked$"),
     {"zh": "找到的句子说的是目标，不是问的实际结果", "en": "the sentence found gives a target, not the result asked"}),
    (re.compile(r"^the sentence found gives a result, not the target asked$"),
     {"zh": "找到的句子说的是已有结果，不是问的目标", "en": "the sentence found gives a result, not the target asked"}),
    (re.compile(r"^confidence [\d.]+ below the threshold$"),  # the confidence is shown beside the reason
     {"zh": "找到的句子不足以回答", "en": "the best sentence found does not answer it surely enough"}),
    (re.compile(r"^no passages retrieved$"), {"zh": "没有检索到任何段落", "en": "no passage was retrieved"}),
    (re.compile(r"^no report indexed is the one asked about$"),
     {"zh": "资料中没有所问的那份报告（年份、地方或会议不符）",
      "en": "no indexed report is the one asked about (its year, place or meeting differs)"}),
    (re.compile(r"^no speaker named for the report asked about$"),
     {"zh": "资料中没有写明所问报告是谁作的", "en": "no passage names who gave the report asked about"}),
    (re.compile(r"^the name found is the speaker's, not a deputy's$"),
     {"zh": "找到的名字是作报告的正职，资料中没有写副职是谁", "en": "the name found is the report's speaker's, and no deputy is named"}),
    (re.compile(r"^the office asked is not named in the passage found$"),
     {"zh": "找到的段落没有提到所问的职务，资料中没有写明由谁担任", "en": "the passage found does not name the office asked"}),
    (re.compile(r"^the model found no answer in the passages$"),
     {"zh": "大模型在给出的段落中没有找到答案", "en": "the model found no answer in the passages"}),
]


def refusal_reason(reason: str | None, lang: str = "zh") -> str:
    """Why an answer was refused, said in lang (the reason as given when it is not one we know)."""
    def say(said, groups):
        words = groups if lang == "zh" else [g.replace("、", ", ") for g in groups]
        return said.get(lang, said["zh"]).format(*words)
    return _say(reason or "", REASONS, say)


def _say(text: str, table, say) -> str:
    """`say(translation, groups)` for the first pattern of table that matches text, else text."""
    for pattern, said in table:
        if m := pattern.match(text):
            return say(said, m.groups())
    return text


def claim_reason(claim, lang: str = "zh") -> str:
    """Why a claim was not verified, in lang (qa/claims.Claim.why, else its English reason)."""
    if claim.why:
        return t(lang, f"why_{claim.why[0]}", items=claim.why[1], refs=claim.why[2])
    return claim.reason
