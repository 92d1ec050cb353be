"""One settings object, resolved as: explicit value (CLI flag) > environment variable > default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_EMBED_MODEL = "BAAI/bge-small-zh-v1.5"
MODES = ("hybrid", "dense", "bm25")

# Environment variable for each setting that can be set from the environment.
ENV = {
    "index_dir": "QA_INDEX_DIR",
    "embed_model": "QA_EMBED_MODEL",
    "mode": "QA_MODE",
    "top_k": "QA_TOP_K",
    "chunk_size": "QA_CHUNK_SIZE",
    "chunk_overlap": "QA_CHUNK_OVERLAP",
    "dense_weight": "QA_DENSE_WEIGHT",
    "min_confidence": "QA_MIN_CONFIDENCE",
    "ocr": "QA_OCR",
    "ocr_engine": "QA_OCR_ENGINE",
    "answerer": "QA_ANSWERER",
    "llm_url": "QA_LLM_URL",
    "llm_model": "QA_LLM_MODEL",
    "llm_api_key": "QA_LLM_API_KEY",
    "llm_path": "QA_LLM_PATH",
    "llm_timeout": "QA_LLM_TIMEOUT",
    "llm_stream": "QA_LLM_STREAM",
    "llm_max_tokens": "QA_LLM_MAX_TOKENS",
    "rerank": "QA_RERANK",
    "embed_device": "QA_EMBED_DEVICE",
    "embed_batch_size": "QA_EMBED_BATCH_SIZE",
    "embed_max_length": "QA_EMBED_MAX_LENGTH",
    "approximate_from": "QA_APPROXIMATE_FROM",
}
OCR_MODES = ("auto", "always", "never")  # qa/ocr.py MODES
OCR_ENGINES = ("rapidocr", "tesseract")  # qa/ocr.py ENGINES
ANSWERERS = ("extractive", "llm")


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    # A sentence-transformers model name, a local model folder, or a .zip/.tar.gz of one.
    embed_model: str = DEFAULT_EMBED_MODEL
    mode: str = "hybrid"
    top_k: int = 5
    chunk_size: int = 400  # characters
    chunk_overlap: int = 1  # sentences carried into the next passage
    # Weight of the dense ranking in reciprocal rank fusion (BM25 has weight 1). None: use the
    # weight recorded for the model in the index manifest. See README "Choosing the fusion weights".
    dense_weight: float | None = None
    # Least probability that an answer is right (the answerer's calibrated confidence) for it to be
    # given rather than refused. None: the threshold shipped with the model, chosen on tune data.
    min_confidence: float | None = None
    # Scanned pages (qa/ocr.py): auto OCRs pages without text and scanned pictures; always every
    # page, ignoring the text layer; never none (image-only PDFs and pictures are then skipped).
    ocr: str = "auto"
    ocr_engine: str = "rapidocr"
    # Who writes the answer (qa/answerers.py): "extractive" sentences, or "llm" with every claim
    # checked against its citation. The llm answerer uses a served model (llm_url: an OpenAI-
    # compatible base URL such as http://127.0.0.1:8000/v1) or else a local model folder (llm_path);
    # without either, or when the model fails or takes longer than llm_timeout seconds in all,
    # it gives the extractive answer with a notice.
    answerer: str = "extractive"
    llm_url: str | None = None
    llm_model: str | None = None  # None: the first model the server lists
    llm_api_key: str | None = field(default=None, repr=False)
    llm_path: str | None = None
    llm_timeout: float = 60.0
    llm_stream: bool = True  # server-sent events; false: one JSON reply
    llm_max_tokens: int = 512
    # A cross-encoder (folder, archive or cached name) that reorders the fused top 20; None: no reranking.
    rerank: str | None = None
    # Where and how the embedding model runs: device None picks cuda, else mps, else cpu; max length
    # None keeps the model's own (in tokens).
    embed_device: str | None = None
    embed_batch_size: int = 32
    embed_max_length: int | None = None
    # Passages from which an ingest stores the vectors in an approximate index (qa/dense.py).
    approximate_from: int = 200_000

    def embed_options(self) -> dict:
        return {"device": self.embed_device, "batch_size": self.embed_batch_size, "max_length": self.embed_max_length}

    @classmethod
    def resolve(cls, **flags) -> "Settings":
        values = {}
        for f in fields(cls):
            value = flags.get(f.name)
            if value is None and f.name in ENV:
                value = os.environ.get(ENV[f.name]) or None
            if value is not None:
                values[f.name] = _convert(f.name, value)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown retrieval mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.top_k < 1:
            raise ConfigError(f"top-k must be at least 1, got {self.top_k}")
        if self.chunk_size < 50:
            raise ConfigError(f"chunk size must be at least 50 characters, got {self.chunk_size}")
        if self.ocr not in OCR_MODES:
            raise ConfigError(f"unknown OCR mode {self.ocr!r}: choose one of {', '.join(OCR_MODES)}")
        if self.ocr_engine not in OCR_ENGINES:
            raise ConfigError(f"unknown OCR engine {self.ocr_engine!r}: choose one of {', '.join(OCR_ENGINES)}")
        if self.chunk_overlap < 0:
            raise ConfigError(f"chunk overlap must be 0 or more sentences, got {self.chunk_overlap}")
        if self.embed_batch_size < 1:
            raise ConfigError(f"embedding batch size must be at least 1, got {self.embed_batch_size}")
        if self.approximate_from < 1:
            raise ConfigError(f"approximate_from must be at least 1 passage, got {self.approximate_from}")
        if self.answerer not in ANSWERERS:
            raise ConfigError(f"unknown answerer {self.answerer!r}: choose one of {', '.join(ANSWERERS)}")
        if self.llm_timeout <= 0:
            raise ConfigError(f"the LLM time-out must be more than 0 seconds, got {self.llm_timeout}")


def _convert(name: str, value):
    kind = {"index_dir": Path, "top_k": int, "chunk_size": int, "chunk_overlap": int,
            "dense_weight": float, "min_confidence": float, "llm_timeout": float, "llm_max_tokens": int, "embed_batch_size": int, "embed_max_length": int,
            "approximate_from": int, "llm_stream": true_or_false}.get(name, str)
    try:
        return kind(value)
    except (TypeError, ValueError):
        env = f" (environment variable {ENV[name]})" if name in ENV else ""
        raise ConfigError(f"setting {name}{env} must be {kind.__name__}, got {value!r}") from None


def true_or_false(value) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
