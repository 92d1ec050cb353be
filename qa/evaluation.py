"""Evaluation datasets: the dev-set JSONL format, SQuAD-format JSON, and what counts as relevant.

A dev-set line is `{"id", "question", "answers", "evidence", "doc", "type", "answerable"}`:
`answers` are short strings copied from the text, `evidence` the sentence that supports them.
A passage is relevant when it contains the evidence sentence, or, from the row's report, every clause
of it that states a gold answer (an evidence sentence of many clauses can be longer than a passage,
and a line of it may be page furniture the cleaner drops); for SQuAD-format data, which has no
evidence sentence, when it comes from the question's gold paragraph. Comparisons ignore white space
and fold traditional/simplified and full/half width.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.metrics import contains_answer
from qa.normalize import for_search

FIELDS = ("id", "question", "answers", "evidence", "doc", "type", "answerable")
TYPES = ("number", "date", "person", "place", "list", "reason", "paraphrase", "traditional", "unanswerable")


class DatasetError(ValueError):
    """A dataset file we cannot use; the message names the file and line."""


def fold(text: str) -> str:
    return re.sub(r"\s+", "", for_search(text))


def load_dataset(path: Path) -> list[dict]:
    """Rows of a dev-set JSONL file; a bad or incomplete line is an error naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such dataset file") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{path}:{n}: not valid JSON ({exc})") from None
        problem = _row_problem(row)
        if problem:
            raise DatasetError(f"{path}:{n}: {problem}")
        rows.append(row)
    if not rows:
        raise DatasetError(f"{path}: no questions in the file")
    return rows


def _row_problem(row) -> str | None:
    if not isinstance(row, dict):
        return "expected a JSON object"
    missing = [f for f in FIELDS if f not in row]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    if not isinstance(row["question"], str) or not row["question"].strip():
        return "'question' must be a non-empty string"
    if not isinstance(row["answers"], list) or not all(isinstance(a, str) for a in row["answers"]):
        return "'answers' must be a list of strings"
    if not isinstance(row["answerable"], bool):
        return "'answerable' must be true or false"
    if row["answerable"] and not (row["answers"] and row["evidence"]):
        return "an answerable question needs at least one answer and its evidence"
    return None


@dataclass
class Paragraph:
    name: str  # file name in the temporary corpus
    title: str
    text: str


def load_squad(path: Path) -> tuple[list[dict], list[Paragraph]]:
    """Dev-set rows and paragraphs from SQuAD-format JSON (CMRC 2018, DRCD, SQuAD 2.0).

    Every paragraph becomes a document; a question's `doc` is its paragraph's file name and its
    evidence is empty, so relevance is judged by paragraph. Questions marked `is_impossible`
    (SQuAD 2.0) are unanswerable.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such SQuAD file") from None
    except ValueError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DatasetError(f"{path}: not SQuAD format: expected {{\"data\": [{{\"title\", \"paragraphs\"}}]}}")
    rows, paragraphs = [], []
    for a, article in enumerate(data["data"]):
        for p, para in enumerate(article.get("paragraphs") or []):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            if not isinstance(para, dict) or not isinstance(para.get("context"), str) or not para["context"].strip():
                raise DatasetError(f"{where}: missing 'context'")
            pid = str(para.get("id") or f"{a}-{p}")
            name = f"{len(paragraphs):05d}-{re.sub(r'[^0-9A-Za-z_-]+', '_', pid)[:40]}.txt"
            title = str(article.get("title") or pid)
            paragraphs.append(Paragraph(name, title, para["context"]))
            for q, qa in enumerate(para.get("qas") or []):
                question = qa.get("question") if isinstance(qa, dict) else None
                if not isinstance(question, str) or not question.strip():
                    raise DatasetError(f"{where}.qas[{q}]: missing 'question'")
                answers = list(dict.fromkeys(str(x.get("text", "")) for x in qa.get("answers") or []
                                             if isinstance(x, dict) and str(x.get("text", "")).strip()))
                answerable = not qa.get("is_impossible", False)
                if answerable and not answers:
                    raise DatasetError(f"{where}.qas[{q}]: no answer text (mark it is_impossible if unanswerable)")
                rows.append({"id": str(qa.get("id") or f"{a}-{p}-{q}"), "question": question,
                             "answers": answers if answerable else [], "evidence": "", "doc": name,
                             "type": "squad" if answerable else "unanswerable", "answerable": answerable})
    if not rows:
        raise DatasetError(f"{path}: no questions in the file")
    return rows, paragraphs


def relevant(row: dict, text: str, source: str = "") -> bool:
    """Does a passage (its text, and the file it came from) support the row's gold evidence?"""
    return relevant_folded(row, fold(text), source)


def relevant_folded(row: dict, folded_text: str, source: str = "") -> bool:
    """`relevant` for a passage text already passed through `fold` (folding once per passage)."""
    same_doc = bool(row.get("doc")) and Path(source).name == Path(row["doc"]).name
    if row.get("evidence"):
        whole, stating = _evidence(row["evidence"], tuple(row.get("answers") or ()))
        if whole in folded_text:
            return True
        return bool(stating) and (same_doc or not source) and all(c in folded_text for c in stating)
    return same_doc


CLAUSE_END = re.compile(r"[\n。！？；!?;]")


@lru_cache(maxsize=4096)
def _evidence(evidence: str, answers: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The evidence folded, and its clauses (to 。；！？ or a line break) that state a gold answer."""
    golds = [g for g in map(fold, answers) if g]
    clauses = CLAUSE_END.split(evidence)
    return fold(evidence), tuple(c for c in map(fold, clauses) if c and any(g in c for g in golds))


def correct(row: dict, answer_text: str) -> bool:
    """Answer accuracy: a gold answer occurs in the answer (see qa.metrics.contains_answer)."""
    return contains_answer(answer_text, row["answers"])
