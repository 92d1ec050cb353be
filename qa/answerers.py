"""Answerers: question, passages and earlier turns → an answer with citations, streamed.

`stream()` yields pieces of the answer text as they come and, last, the finished `Answer`.
`extractive` is the learned sentence-and-span answerer of qa/answering.py (the default, and the
fallback); `llm` asks a language model (qa/llm.py) and checks every claim of what it says against
the passage it cites (qa/claims.py). When the model is not configured, cannot be reached, times
out or sends something malformed, the `llm` answerer gives the extractive answer with a one-line
`notice` saying why: it never hangs and never fails a question.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol, Sequence

from qa.answering import NOT_FOUND
from qa.claims import check_answer
from qa.llm import LLMError, LocalCausalLM, OpenAIChat, messages_for, rewrite_messages, sources_for, standalone
from qa.normalize import to_simplified
from qa.types import Answer, Citation, Hit

ANSWERERS = ("extractive", "llm")
REFUSED = ("资料中未找到", "資料中未找到", "not found in the")


@dataclass
class Turn:
    """An earlier exchange, as the model is shown it."""
    question: str
    answer: str


class Answerer(Protocol):
    name: str

    def stream(self, question: str, hits: list[Hit], history: Sequence[Turn] = ()) -> Iterator[str | Answer]: ...


def final(items) -> Answer:
    """The Answer at the end of a stream."""
    last = None
    for last in items:
        pass
    assert isinstance(last, Answer)
    return last


class Extractive:
    name = "extractive"

    def __init__(self, extract: Callable[[str, list[Hit]], Answer]):
        self.extract = extract

    def stream(self, question, hits, history=()):
        result = self.extract(question, hits)
        result.answerer = self.name
        yield result.answer
        yield result


class LLM:
    """A language model's answer, checked claim by claim; the extractive answer when it fails."""

    name = "llm"

    def __init__(self, backend, fallback: Extractive, documents: dict, timeout: float = 60.0):
        self.backend, self.fallback, self.documents, self.timeout = backend, fallback, documents, timeout

    def stream(self, question, hits, history=()):
        if self.backend is None:
            yield self._fallback(question, hits, "no language model configured (set QA_LLM_URL or QA_LLM_PATH)")
            return
        if not hits:
            yield self._fallback(question, hits, "no passages retrieved")
            return
        sources = sources_for(hits, self.documents)
        messages = messages_for(question, sources, history)
        deadline = time.monotonic() + self.timeout
        pieces: list[str] = []
        t0 = time.perf_counter()
        first = None
        try:
            for piece in self.backend.stream(messages, deadline):
                if first is None:
                    first = time.perf_counter() - t0
                pieces.append(piece)
                yield piece
        except LLMError as exc:
            yield self._fallback(question, hits, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a model that breaks (out of memory, …) must not fail the question
            yield self._fallback(question, hits, f"model error: {type(exc).__name__}: {' '.join(str(exc).split())[:100]}")
            return
        text = "".join(pieces).strip()
        if not text:
            yield self._fallback(question, hits, "the model returned no text")
            return
        result = self.checked(question, text, hits, sources)
        if first is not None:
            result.timings_ms["first_token"] = round(first * 1000, 2)
        yield result

    def rewrite(self, question: str, history: Sequence[Turn], timeout: float | None = None) -> str | None:
        """The follow-up question made to stand alone by the model; None when there is no earlier
        turn, no model, or the model fails (the caller then uses qa/followup.py's rules)."""
        if self.backend is None or not history:
            return None
        deadline = time.monotonic() + min(self.timeout, timeout or self.timeout)
        try:
            text = standalone("".join(self.backend.stream(rewrite_messages(question, history), deadline)))
        except LLMError:
            return None
        return None if text == question.strip() else text

    def checked(self, question: str, text: str, hits: list[Hit], sources) -> Answer:
        """The model's text as an Answer: in the question's script, its claims checked, a citation
        (with the best-supporting sentence as its quote) for each passage it cites."""
        text, notice = same_script(question, text)
        claims = [c for c in check_answer(text, sources) if c.citations or not any(r in c.text for r in REFUSED)]
        if not claims and any(r in text for r in REFUSED):
            return Answer(question, NOT_FOUND, None, False, [], hits, refusal="the model found no answer in the passages",
                          answerer=self.name, notice=notice)
        if not claims:
            return self._fallback(question, hits, "the model's answer has no words")
        quotes: dict[int, str] = {}
        for c in claims:
            for n, q in c.quotes.items():
                quotes.setdefault(n, q)
        citations = [Citation(n, hits[n - 1], quotes[n]) for n in sorted(quotes)]
        share = sum(c.verified for c in claims) / len(claims) if claims else 0.0
        return Answer(question, text, None, True, citations, hits, support=share, confidence=share,
                      claims=claims, answerer=self.name, notice=notice)

    def _fallback(self, question, hits, why: str) -> Answer:
        result = final(self.fallback.stream(question, hits))
        result.notice = f"LLM unavailable ({why}); extractive answer shown"
        return result


def same_script(question: str, answer: str) -> tuple[str, str]:
    """The answer in the question's script: traditional ↔ simplified converted, a notice when the
    model answered a Chinese question in another language."""
    if not _has_cjk(question):
        return answer, ""
    if not _has_cjk(answer):
        return answer, "the model answered in another language than the question's"
    traditional = to_simplified(question) != question
    if traditional:
        import opencc

        converted = opencc.OpenCC("s2t").convert(answer)
    else:
        converted = to_simplified(answer)
    return converted, ("answer converted to the question's script" if converted != answer else "")


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def backend_for(settings):
    """The language model the settings name: a served endpoint (QA_LLM_URL) or a local folder
    (QA_LLM_PATH); None when neither is set."""
    if settings.llm_url:
        return OpenAIChat(settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout,
                          settings.llm_stream, settings.llm_max_tokens)
    if settings.llm_path:
        return LocalCausalLM(settings.llm_path, None, settings.llm_timeout, settings.llm_max_tokens)
    return None
