"""The assistant: an index, its embedding model, a retriever and the answerer, loaded once."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path

import numpy as np

from qa import store
from qa.answering import answer as extract_answer
from qa.config import Settings
from qa.embedding import load_index_model
from qa.normalize import spell_out
from qa.retrieval import Retriever
from qa.types import Answer, Citation, Hit


MAX_QUESTION_CHARS = 1000  # the chat box's limit; the app's endpoints refuse longer questions too
ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")


def clean_question(text) -> str:
    """A question as the answerer should see it: terminal escape sequences and other control
    characters removed (a line break or tab becomes a space), surrounding space stripped."""
    text = ANSI.sub("", str(text))
    return "".join(" " if ch in "\t\n\r" else ch for ch in text
                   if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs")).strip()


def check_question(question) -> str:
    """The cleaned question of an API or chat request, or ValueError saying what is wrong."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be a string, not {'null' if question is None else type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    cleaned = clean_question(question)
    if not cleaned:
        raise ValueError("empty question: give the question to answer")
    return cleaned


class Assistant:
    def __init__(self, settings: Settings, embed_model_given: bool = False):
        self.settings = settings
        self.index, self.embedder = _load(settings, embed_model_given)
        # each report's first passage, which holds its title, date and speaker lines: its row, read when asked for
        doc_ids = list(self.index.documents)
        positions, rows = np.unique(self.index.doc_rows(), return_index=True)
        self._heads = {doc_ids[d]: int(row) for d, row in zip(positions, rows)}
        self.retriever = Retriever(self.index, self.embedder, settings.dense_weight)
        self._answerers = {}
        self.reranker = None
        if settings.rerank:  # loaded now, so that a missing model is one clear error before any question
            from qa.rerank import Reranker

            self.reranker = Reranker(settings.rerank)

    def head_passage(self, doc_id: str):
        row = self._heads.get(doc_id)
        return None if row is None else self.index.passages[row]

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               doc_ids: list[str] | None = None, years: list[int] | None = None) -> list[Hit]:
        query = spell_out(clean_question(query))
        k = k or self.settings.top_k
        if self.reranker is None:
            return self.retriever.search(query, k, mode or self.settings.mode, doc_ids, years)
        from qa.rerank import DEPTH

        fused = self.retriever.search(query, max(k, DEPTH), mode or self.settings.mode, doc_ids, years)
        return self.reranker.rerank(query, fused, k)

    def extract(self, question: str, hits: list[Hit]) -> Answer:
        return extract_answer(question, hits, self.index.bm25.idf, self.settings.min_confidence,
                              self.index.documents, self.index.bm25.knows, self.head_passage)

    def answerer(self, name: str | None = None):
        """The answerer called `name` (qa/answerers.py; default: the settings' one), made once."""
        from qa import answerers

        name = name or self.settings.answerer
        if name not in self._answerers:
            extractive = answerers.Extractive(self.extract)
            if name == "extractive":
                self._answerers[name] = extractive
            elif name == "llm":
                self._answerers[name] = answerers.LLM(answerers.backend_for(self.settings), extractive,
                                                      self.index.documents, self.settings.llm_timeout)
            else:
                raise ValueError(f"unknown answerer {name!r}: choose one of {', '.join(answerers.ANSWERERS)}")
        return self._answerers[name]

    def ask(self, question: str, k: int | None = None, mode: str | None = None,
            doc_ids: list[str] | None = None, years: list[int] | None = None,
            answerer: str | None = None, history=()) -> Answer:
        for item in self.ask_stream(question, k, mode, doc_ids, years, answerer, history):
            pass
        return item

    def ask_stream(self, question: str, k: int | None = None, mode: str | None = None,
                   doc_ids: list[str] | None = None, years: list[int] | None = None,
                   answerer: str | None = None, history=()):
        """Pieces of the answer's text as the answerer writes them, then the finished Answer."""
        question = clean_question(question)
        t0 = time.perf_counter()
        hits = self.search(question, k, mode, doc_ids, years)
        t1 = time.perf_counter()
        for item in self.answerer(answerer).stream(question, hits, history):
            if isinstance(item, Answer):
                t2 = time.perf_counter()
                item.searched = spell_out(question)
                item.timings_ms = {"retrieve": round((t1 - t0) * 1000, 2), "answer": round((t2 - t1) * 1000, 2),
                                   "total": round((t2 - t0) * 1000, 2), **item.timings_ms}
            yield item

    # JSON shapes of the CLI contract (README "JSON output")

    def hit_json(self, hit: Hit, rank: int | None = None) -> dict:
        p = hit.passage
        doc = self.index.documents[p.doc_id]
        out = {"rank": rank} if rank is not None else {}
        out.update({"passage_id": p.passage_id, "doc_id": p.doc_id, "title": doc.title, "date": doc.date,
                    "speaker": doc.speaker, "place": doc.place, "source": doc.source, "section": p.section, "text": p.text,
                    "start": p.start, "end": p.end, "page": p.page, "ocr": p.ocr, "score": round(hit.score, 6)})
        return out

    def citation_json(self, c: Citation) -> dict:
        return {"n": c.n, **self.hit_json(c.hit), "quote": c.quote}

    def answer_json(self, a: Answer) -> dict:
        return {"question": a.question, "answer": a.answer, "short_answer": a.short_answer,
                "answerable": a.answerable, "support": round(a.support, 3), "confidence": round(a.confidence, 3), "refusal": a.refusal or None, "searched": a.searched,
                "citations": [self.citation_json(c) for c in a.citations],
                "closest": self.citation_json(a.closest) if a.closest else None,
                "passages": [self.hit_json(h) for h in a.hits], "timings_ms": a.timings_ms,
                "answerer": a.answerer, "claims": [c.json() for c in a.claims], "notice": a.notice or None}

    def search_json(self, query: str, hits: list[Hit]) -> dict:
        return {"query": query, "results": [{**self.hit_json(h, rank), "scores": h.scores}
                                            for rank, h in enumerate(hits, start=1)]}


def _load(settings: Settings, embed_model_given: bool):
    """The index and its model. A writer may swap the build away between the two reads; then the
    build CURRENT now names is read."""
    from qa.embedding import ModelUnavailable

    for attempt in range(store.LOAD_TRIES):
        index = store.load(settings.index_dir, expect_model=settings.embed_model if embed_model_given else None)
        try:
            return index, load_index_model(index.manifest.embed_model, index.folder, queries=True,
                                           **settings.embed_options())
        except ModelUnavailable:
            if attempt + 1 == store.LOAD_TRIES or store.current_build(settings.index_dir) == index.folder:
                raise
    raise AssertionError("unreachable")
