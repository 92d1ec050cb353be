"""Optional reranking: a sentence-transformers CrossEncoder reads the question with each of the
fused top N passages and reorders them (BAAI/bge-reranker-v2-m3, maidalun1020/bce-reranker-base_v1,
or any cross-encoder folder). Loaded offline like the embedding model: a folder, an archive of one,
or a name in the local Hugging Face cache (qa/embedding.resolve_model)."""

from __future__ import annotations

import json
from functools import lru_cache

from qa.embedding import ModelUnavailable, _offline, resolve_model
from qa.normalize import for_search
from qa.types import Hit

DEPTH = 20  # fused passages the cross-encoder reads per question


class Reranker:
    def __init__(self, spec: str, device: str | None = None, max_length: int = 512):
        self.name = spec
        self.model = _load(spec, device, max_length)

    def rerank(self, query: str, hits: list[Hit], k: int) -> list[Hit]:
        """The k best of hits by the cross-encoder's score (kept in hit.scores["rerank"]); the
        fused score stays the hit's score, so nothing downstream changes meaning."""
        if not hits:
            return []
        pairs = [(for_search(query), for_search(h.passage.text)) for h in hits]
        scores = self.model.predict(pairs, batch_size=16, show_progress_bar=False)
        for h, s in zip(hits, scores):
            h.scores["rerank"] = float(s)
        return sorted(hits, key=lambda h: -h.scores["rerank"])[:k]


@lru_cache(maxsize=2)
def _load(spec: str, device: str | None, max_length: int):
    try:
        folder = resolve_model(spec)
    except ModelUnavailable:
        raise ModelUnavailable(f"reranker {spec} is not on this machine (no network downloads are made): copy the "
                               "cross-encoder folder (or a .zip/.tar.gz of it) here and pass --rerank /path/to/it "
                               "or set QA_RERANK") from None
    _offline()
    try:
        from sentence_transformers import CrossEncoder
    except ImportError as exc:
        raise ModelUnavailable(f"sentence-transformers is not installed ({exc}): run `make setup`") from None
    try:  # never more tokens than the model has positions for (a small model has fewer than 512)
        positions = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("max_position_embeddings")
    except (OSError, ValueError):
        positions = None
    max_length = min(max_length, positions) if positions else max_length
    try:
        return CrossEncoder(str(folder), device=device, max_length=max_length, local_files_only=True)
    except Exception as exc:  # a broken folder raises many kinds of errors
        raise ModelUnavailable(f"cannot load reranker from {folder}: {' '.join(str(exc).split())[:160]}") from None
