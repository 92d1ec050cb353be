"""One settings object, resolved as: explicit value (CLI flag) > environment variable > default."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
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
}
OCR_MODES = ("auto", "always", "never")  # qa/ocr.py MODES
OCR_ENGINES = ("rapidocr", "tesseract")  # qa/ocr.py ENGINES


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


def _convert(name: str, value):
    kind = {"index_dir": Path, "top_k": int, "chunk_size": int, "chunk_overlap": int,
            "dense_weight": float, "min_confidence": float}.get(name, str)
    try:
        return kind(value)
    except (TypeError, ValueError):
        env = f" (environment variable {ENV[name]})" if name in ENV else ""
        raise ConfigError(f"setting {name}{env} must be {kind.__name__}, got {value!r}") from None
