"""Questions embedded without torch: a real embedding model's encoder exported to ONNX once, then
run with onnxruntime and the `tokenizers` library (a few hundred milliseconds to import, against
several seconds for torch and sentence-transformers), so `qa ask` starts fast with any model.

Ingest exports the model it embeds passages with (`export`) into the model cache, keyed by the
model folder, its max length and its query prompt, and keeps the export only when its vectors equal
the sentence-transformers ones on sample questions (cosine ≥ 0.9999). A query-time load
(`load`) uses the export when there is one, and the sentence-transformers model otherwise. Only
the plain layout is exported: a transformer, mean or CLS pooling, and optional normalisation.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from qa.normalize import for_search

CHECK_TEXTS = ["2017年计划拆迁多少户？", "全區經濟穩步增長，城中村改造完成拆遷。", "GDP growth of 7.5% 😀"]
MIN_COSINE = 0.9999


def cache_dir(folder: Path, name: str, max_length: int | None) -> Path:
    """Where the export of the model in `folder` lives: one per model folder (and the state of its
    files), name (which decides the prompts) and max length setting."""
    from qa.embedding import MODEL_CACHE

    folder = Path(folder).resolve()
    stamp = [str(folder), name, str(max_length or "")]
    stamp += [f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in sorted(folder.glob("*")) if p.is_file()]
    key = hashlib.sha256("\n".join(stamp).encode("utf-8")).hexdigest()[:16]
    return Path(os.environ.get("QA_MODEL_CACHE", MODEL_CACHE)) / "onnx" / key


def _layout(st) -> str | None:
    """The pooling ("mean" or "cls") of a plain sentence-transformers model, else None. (Whether it
    normalises does not matter: this project always normalises.)"""
    modules = list(st)
    if not modules or type(modules[0]).__name__ != "Transformer" or len(modules) > 3:
        return None
    pooling = modules[1] if len(modules) > 1 else None
    if pooling is None or type(pooling).__name__ != "Pooling" or not getattr(pooling, "include_prompt", True):
        return None
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 6; before, a method said it
    if mode is None and hasattr(pooling, "get_pooling_mode_str"):
        mode = pooling.get_pooling_mode_str()
    if mode not in ("mean", "cls"):
        return None
    rest = modules[2:]
    if rest and type(rest[0]).__name__ != "Normalize":
        return None
    return mode


def export(embedder, folder: Path, max_length: int | None = None) -> Path | None:
    """Export `embedder`'s model (qa.embedding.Embedder over the model in `folder`, loaded with the
    max length setting `max_length`) for fast questions; the export folder, or None where the
    model's layout or the check does not allow it."""
    st = embedder.model
    pooling = _layout(st)
    tokenizer = getattr(st, "tokenizer", None)
    if pooling is None or not hasattr(tokenizer, "backend_tokenizer"):
        return None
    out = cache_dir(folder, embedder.name, max_length)
    if (out / "meta.json").exists():
        return out
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on operators are not the user's business
            _write_onnx(st[0].auto_model, tmp / "model.onnx")
        (tmp / "tokenizer.json").write_text(tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
        meta = {"pooling": pooling, "max_length": int(st.max_seq_length), "query_prompt": embedder.query_prompt or "",
                "dim": int(embedder.dim), "name": embedder.name,
                "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]")}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        ours = OnnxQueries(tmp).encode_queries(CHECK_TEXTS)
        theirs = embedder.encode_queries(CHECK_TEXTS)
        if float(np.min(np.sum(ours * theirs, axis=1))) < MIN_COSINE:
            raise ValueError("the exported model's vectors differ")
        os.replace(tmp, out)
        return out
    except Exception:  # no torch, or an architecture the exporter cannot take: questions use the full model
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return None


def _write_onnx(encoder, path: Path) -> None:
    """The transformer's last hidden states for (input_ids, attention_mask), batch and length free."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "hidden")}
    with torch.no_grad():
        torch.onnx.export(Hidden().eval().cpu(), (ids, torch.ones_like(ids)), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


class OnnxQueries:
    """Questions through the exported encoder; passages (ingest) through the full model, loaded
    only if asked for."""

    def __init__(self, folder: Path, full=None):
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((Path(folder) / "meta.json").read_text(encoding="utf-8"))
        self.name, self.dim, self.meta = meta["name"], meta["dim"], meta
        self.query_prompt = meta["query_prompt"] or None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(Path(folder) / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self.tokenizer.enable_truncation(meta["max_length"])
        self.tokenizer.enable_padding(pad_id=meta["pad_id"], pad_token=meta["pad_token"])
        self._full = full

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        prompt = self.query_prompt or ""
        encoded = self.tokenizer.encode_batch([prompt + for_search(t) for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self.meta["pooling"] == "cls":
            vectors = hidden[:, 0]
        else:
            vectors = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str], batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        return self._full().encode_passages(texts, batch_size, progress)


def load(folder: Path, name: str, max_length: int | None, full) -> OnnxQueries | None:
    """The export of the model in `folder`, or None; `full()` loads the sentence-transformers model."""
    out = cache_dir(folder, name, max_length)
    if not (out / "meta.json").exists():
        return None
    try:
        return OnnxQueries(out, full)
    except Exception:  # onnxruntime or tokenizers missing, a damaged export: the full model
        return None
