"""The chat app's words, in Chinese (default) and English. Pure data: no gradio here."""

from __future__ import annotations

from qa.answering import NOT_FOUND

LANGS = {"中文": "zh", "English": "en"}

TEXT = {
    "zh": {
        "title": "报告问答",
        "intro": "基于 {documents} 份报告、{passages} 个段落作答；每个回答都标注出处，点击 [1] 查看原文。",
        "chat_tab": "问答",
        "docs_tab": "文档",
        "chat": "对话",
        "question": "问题",
        "placeholder": "输入问题，例如：2017年计划拆迁多少户？",
        "send": "发送",
        "new_chat": "新对话",
        "examples": "示例问题",
        "settings": "设置",
        "mode": "检索方式",
        "k": "检索段落数",
        "doc_filter": "只在这些文档中检索（不选则全部）",
        "year_filter": "只检索这些年份（不选则全部）",
        "answer_mode": "回答方式",
        "extractive": "抽取式（原文句子）",
        "sources": "来源",
        "may_be_related": "可能相关的段落（资料中没有直接回答）",
        "short": "简答",
        "searched": "检索的问题",
        "context": "查看上下文",
        "no_sources": "提问后，回答引用的段落显示在这里。",
        "language": "语言 / Language",
        "docs_table": "已索引的文档",
        "col_title": "标题", "col_date": "日期", "col_speaker": "报告人", "col_passages": "段落数", "col_file": "文件",
        "status": "索引状态：{documents} 份文档，{passages} 个段落；向量模型 {model}；更新于 {updated}。",
        "upload": "上传文档（{suffixes}，每个不超过 {mb} MB）",
        "add": "加入索引",
        "adding": "正在导入",
        "added": "已导入：新增 {added} 个，更新 {updated} 个；现在共 {documents} 份文档、{passages} 个段落。",
        "no_files": "请先选择要上传的文件。",
        "error": "出错了：{error}",
        "empty_question": "请输入问题。",
        "refused": NOT_FOUND,
    },
    "en": {
        "title": "Report QA",
        "intro": "Answers from {documents} reports ({passages} passages); every answer cites its sources — click [1] to see the passage.",
        "chat_tab": "Chat",
        "docs_tab": "Documents",
        "chat": "Conversation",
        "question": "Question",
        "placeholder": "Ask a question, e.g. 2017年计划拆迁多少户？",
        "send": "Send",
        "new_chat": "New conversation",
        "examples": "Example questions",
        "settings": "Settings",
        "mode": "Retrieval mode",
        "k": "Passages to retrieve",
        "doc_filter": "Search only these documents (none: all)",
        "year_filter": "Search only these years (none: all)",
        "answer_mode": "Answer mode",
        "extractive": "Extractive (sentences from the reports)",
        "sources": "Sources",
        "may_be_related": "May be related (the documents do not answer directly)",
        "short": "Short answer",
        "searched": "Searched for",
        "context": "Show surrounding text",
        "no_sources": "Ask a question; the passages its answer cites appear here.",
        "language": "语言 / Language",
        "docs_table": "Indexed documents",
        "col_title": "Title", "col_date": "Date", "col_speaker": "Speaker", "col_passages": "Passages", "col_file": "File",
        "status": "Index: {documents} documents, {passages} passages; embedding model {model}; updated {updated}.",
        "upload": "Upload documents ({suffixes}, at most {mb} MB each)",
        "add": "Add to index",
        "adding": "Ingesting",
        "added": "Done: {added} added, {updated} updated; now {documents} documents, {passages} passages.",
        "no_files": "Choose files to upload first.",
        "error": "Error: {error}",
        "empty_question": "Please type a question.",
        "refused": "No content directly relevant to the question was found in the documents.",
    },
}


def t(lang: str, key: str, **values) -> str:
    """The text for key in lang (falling back to Chinese), with {values} filled in."""
    text = TEXT.get(lang, TEXT["zh"]).get(key) or TEXT["zh"][key]
    return text.format(**values) if values else text
