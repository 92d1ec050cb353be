"""Write an evaluation's results: report.md, metrics.json, per_question.csv and two PNG plots.

report.md puts the retrieval modes side by side, overall and by question type; per_question.csv
(UTF-8 with BOM, so Excel shows the Chinese) has one row per question and mode for error analysis.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

FILES = ("report.md", "metrics.json", "per_question.csv", "recall_at_k.png", "accuracy_by_type.png")

# Overall metrics in report order, with their labels; hit@k and recall@k are added per k.
LABELS = {
    "mrr@10": "MRR@10", "ndcg@10": "nDCG@10",
    "exact_match": "exact match (short answer)", "f1": "character F1 (short answer)",
    "answer_accuracy": "answer accuracy (gold in answer)", "median_answer_chars": "median answer length (chars)",
    "citation_accuracy": "citation accuracy", "citation_precision": "citation precision",
    "unsupported_numbers": "numbers not in cited passages (count)",
    "answers_with_unsupported_numbers": "answers with such numbers",
    "claims_verified": "claims verified against their citations (llm)",
    "answers_with_unverified_claim": "answers with an unverified claim (llm)",
    "llm_fallbacks": "answers that fell back to extractive (llm)",
    "refused_unanswerable": "unanswerable questions refused", "false_refusals": "answerable questions wrongly refused",
    "retrieve_ms_p50": "retrieval ms p50", "retrieve_ms_p95": "retrieval ms p95",
    "answer_ms_p50": "whole answer ms p50", "answer_ms_p95": "whole answer ms p95",
}
LABELS_ZH = {
    "mrr@10": "MRR@10", "ndcg@10": "nDCG@10",
    "exact_match": "完全匹配（简答）", "f1": "字符 F1（简答）",
    "answer_accuracy": "答案准确率（答案含标准答案）", "median_answer_chars": "答案长度中位数（字）",
    "citation_accuracy": "引用准确率", "citation_precision": "引用精确率",
    "unsupported_numbers": "引用段落中没有的数字（个）", "answers_with_unsupported_numbers": "含这类数字的答案",
    "refused_unanswerable": "不可答问题被拒答", "false_refusals": "可答问题被误拒",
    "retrieve_ms_p50": "检索毫秒 p50", "retrieve_ms_p95": "检索毫秒 p95",
    "answer_ms_p50": "整个回答毫秒 p50", "answer_ms_p95": "整个回答毫秒 p95",
}
BY_TYPE = ("hit@1", "hit@5", "mrr@10", "exact_match", "f1", "answer_accuracy", "citation_accuracy",
           "refused_unanswerable", "false_refusals")
SHORT = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr@10": "MRR", "exact_match": "EM", "f1": "F1",
         "answer_accuracy": "acc", "citation_accuracy": "cited", "refused_unanswerable": "refused",
         "false_refusals": "false ref."}
SHORT_ZH = dict(SHORT, answer_accuracy="准确", citation_accuracy="引用对", refused_unanswerable="拒答",
                false_refusals="误拒")
# The report's own words; report.md and the terminal are English, the app shows the user's language.
WORDS = {
    "en": {"title": "Evaluation report", "dataset": "dataset", "questions": "questions", "index": "index",
           "model": "embedding model", "chunk": "chunk size", "top": "answer from top", "dense": "dense weight",
           "min": "min confidence", "modes": "modes", "took": "took", "s": "s", "overall": "Overall",
           "by_type": "By question type", "metric": "metric", "type": "type"},
    "zh": {"title": "评测报告", "dataset": "评测集", "questions": "个问题", "index": "索引",
           "model": "向量模型", "chunk": "段落长度", "top": "从前几个段落作答", "dense": "向量权重",
           "min": "最低置信度", "modes": "检索方式", "took": "用时", "s": "秒", "overall": "总体",
           "by_type": "按问题类型", "metric": "指标", "type": "类型"},
}


def metric_keys(ks, lang: str = "en") -> list[tuple[str, str]]:
    keys = [(f"hit@{k}", f"hit@{k}") for k in ks] + [(f"recall@{k}", f"recall@{k}") for k in ks]
    return keys + list((LABELS_ZH if lang == "zh" else LABELS).items())


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:g}" if value.is_integer() else f"{value:.1f}"
    return str(value)


def overall_table(result: dict, lang: str = "en") -> str:
    modes = list(result["modes"])
    lines = [f"| {WORDS[_lang(lang)]['metric']} | " + " | ".join(modes) + " |", "| --- |" + " --- |" * len(modes)]
    for key, label in metric_keys(result["ks"], _lang(lang)):
        values = [result["modes"][mode]["overall"].get(key) for mode in modes]
        if any(v is not None for v in values):
            lines.append(f"| {label} | " + " | ".join(fmt(v) for v in values) + " |")
    return "\n".join(lines)


def type_table(result: dict, mode: str, lang: str = "en") -> str:
    short = SHORT_ZH if _lang(lang) == "zh" else SHORT
    keys = [k for k in BY_TYPE if k in set().union(*result["modes"][mode]["by_type"].values())]
    lines = [f"| {WORDS[_lang(lang)]['type']} | n | " + " | ".join(short[k] for k in keys) + " |",
             "| --- | --- |" + " --- |" * len(keys)]
    for t, values in result["modes"][mode]["by_type"].items():
        lines.append(f"| {t} | {values['questions']} | " + " | ".join(fmt(values.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def render(result: dict, plots: bool = True, lang: str = "en") -> str:
    """The report as Markdown; without `plots`, only the text and tables (for a terminal or the app);
    lang "zh" for the app in Chinese."""
    s, w = result["settings"], WORDS[_lang(lang)]
    head = (f"# {w['title']}\n\n- {w['dataset']}: {result['dataset']} ({result['questions']} {w['questions']})\n"
            f"- {w['index']}: {s['index']}; {w['model']}: {s['model']}; {w['chunk']} {s['chunk_size']}; "
            f"{w['top']} {s['top_k']}; {w['dense']} {s['dense_weight']}; {w['min']} {s.get('min_confidence')}\n"
            f"- {w['modes']}: {', '.join(result['modes'])}; {w['took']} {result.get('seconds', '?')} {w['s']}\n")
    parts = [head, f"## {w['overall']}\n", overall_table(result, lang), ""]
    for mode in result["modes"]:
        parts += [f"## {w['by_type']} — {mode}\n", type_table(result, mode, lang), ""]
    if plots:
        parts += ["## Plots\n", "![recall@k](recall_at_k.png)\n", "![accuracy by type](accuracy_by_type.png)\n"]
    return "\n".join(parts).rstrip() + "\n"


def _lang(lang: str) -> str:
    return "zh" if lang == "zh" else "en"


def write_all(result: dict, records: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    write_csv(records, result["ks"], out / "per_question.csv")
    plot_recall(result, out / "recall_at_k.png")
    plot_by_type(result, out / "accuracy_by_type.png")
    (out / "report.md").write_text(render(result), encoding="utf-8")


def write_csv(records: list[dict], ks, path: Path) -> None:
    columns = (["mode", "id", "type", "question", "gold", "answer", "short_answer", "refused", "citations"]
               + [f"hit@{k}" for k in ks] + [f"recall@{k}" for k in ks]
               + ["mrr@10", "ndcg@10", "exact_match", "f1", "accurate", "cited_ok", "citation_precision",
                  "unsupported_numbers", "answer_chars", "retrieve_ms", "answer_ms", "answerer", "claims",
                  "claims_verified", "notice"])
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in records:
            writer.writerow([_cell(r.get(c)) for c in columns])


def _cell(value):
    if isinstance(value, list):
        return " | ".join(map(str, value))
    if isinstance(value, float):
        return round(value, 4)
    return "" if value is None else value


def compare(a: dict, b: dict) -> str:
    """A table of B − A for every overall metric of every mode both runs have."""
    lines = ["| mode | metric | A | B | B − A |", "| --- | --- | --- | --- | --- |"]
    ks = [k for k in a.get("ks", []) if k in b.get("ks", [])]
    for mode in [x for x in a["modes"] if x in b["modes"]]:
        for key, label in metric_keys(ks):
            va, vb = a["modes"][mode]["overall"].get(key), b["modes"][mode]["overall"].get(key)
            if va is None and vb is None:
                continue
            diff = f"{vb - va:+.3f}" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else "–"
            lines.append(f"| {mode} | {label} | {fmt(va)} | {fmt(vb)} | {diff} |")
    if len(lines) == 2:
        raise ValueError("the two runs have no retrieval mode in common")
    return "\n".join(lines)


CJK_FONTS = ("Noto Sans CJK", "Noto Serif CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei",
             "PingFang", "Heiti", "AR PL", "Droid Sans Fallback")
CJK_FILES = re.compile(r"(?i)wqy|cjk|sourcehan|droidsansfallback|simhei|msyh|pingfang|uming|ukai")


def cjk_fonts() -> list[str]:
    """The font families for the plots: those with Chinese glyphs, the ones that also have Latin
    letters and digits first, then DejaVu Sans (matplotlib's own) before any that lack them, so
    that matplotlib falls back glyph by glyph and no label shows empty boxes. [] when no font
    has Chinese glyphs (then the plots use English labels)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    if not any(f.name.startswith(w) for f in font_manager.fontManager.ttflist for w in CJK_FONTS):
        # matplotlib's font list is cached when it is first used: a CJK font installed since is added
        for path in font_manager.findSystemFonts():
            if CJK_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass
    full, partial = [], []
    for f in font_manager.fontManager.ttflist:
        if not any(f.name.startswith(w) for w in CJK_FONTS) or f.name in full + partial:
            continue
        try:
            chars = FT2Font(f.fname).get_charmap()
        except (OSError, RuntimeError, ValueError):
            continue
        if ord("中") not in chars:
            continue
        (full if all(ord(c) in chars for c in "Akx019%@") else partial).append(f.name)
    return full + ["DejaVu Sans"] + partial if full or partial else []


def cjk_font() -> str | None:
    """The first of cjk_fonts() (kept for callers that want one name)."""
    fonts = cjk_fonts()
    return fonts[0] if fonts else None


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fonts = cjk_fonts()
    if fonts:
        plt.rcParams["font.family"] = fonts  # a list: matplotlib takes each glyph from the first that has it
        plt.rcParams["axes.unicode_minus"] = False
    return plt, bool(fonts)


def plots(result: dict, out: Path, lang: str) -> tuple[Path, Path]:
    """The two plots with their words in lang, for the app (recall_at_k.<lang>.png and
    accuracy_by_type.<lang>.png in out, drawn when first asked for)."""
    recall, by_type = out / f"recall_at_k.{_lang(lang)}.png", out / f"accuracy_by_type.{_lang(lang)}.png"
    if not recall.exists():
        plot_recall(result, recall, lang)
    if not by_type.exists():
        plot_by_type(result, by_type, lang)
    return recall, by_type


def plot_recall(result: dict, path: Path, lang: str | None = None) -> None:
    """recall@k per mode; labels in lang (None: Chinese when a Chinese font is there, as in report.md's plots)."""
    plt, zh = _figure()
    zh = zh and lang in (None, "zh")
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ks = result["ks"]
    for mode, values in result["modes"].items():
        ys = [values["overall"].get(f"recall@{k}") for k in ks]
        if all(y is not None for y in ys):
            ax.plot(ks, ys, marker="o", label=mode)
    ax.set_xticks(ks)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k（检索段落数）" if zh else "k (passages retrieved)")
    ax.set_ylabel("recall@k")
    ax.set_title("各检索模式的 recall@k" if zh else "recall@k by retrieval mode")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_by_type(result: dict, path: Path, lang: str | None = None) -> None:
    """Answer accuracy per question type and mode; for unanswerable questions, the share refused."""
    plt, zh = _figure()
    zh = zh and lang in (None, "zh")
    modes = list(result["modes"])
    types = sorted({t for v in result["modes"].values() for t in v["by_type"]})
    fig, ax = plt.subplots(figsize=(max(6, len(types) * 0.9), 4), dpi=100)
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        by_type = result["modes"][mode]["by_type"]
        ys = [(by_type.get(t, {}).get("answer_accuracy") if t != "unanswerable"
               else by_type.get(t, {}).get("refused_unanswerable")) or 0 for t in types]
        ax.bar([x + i * width - 0.4 + width / 2 for x in range(len(types))], ys, width, label=mode)
    ax.set_xticks(range(len(types)))
    ax.set_xticklabels(types, rotation=30, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("答案准确率（不可答：拒答率）" if zh else "answer accuracy (unanswerable: refused)")
    ax.set_title("按问题类型的准确率" if zh else "accuracy by question type")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over them
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
