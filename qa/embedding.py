"""Stage 5: dense embeddings with sentence-transformers, fully offline.

The configured model (default BAAI/bge-small-zh-v1.5) is loaded from a local folder, an archive
of one, or the local Hugging Face cache, never from the network. When it is not there, ingest
still works: a small static-embedding model is trained on the corpus itself (see
`train_corpus_model`) and saved inside the index, so questions are embedded by the same model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from qa.normalize import for_search

CORPUS_MODEL = "corpus-static"  # name recorded in the manifest for the corpus-trained fallback
# Query instructions of models that need one and do not ship it in their config.
QUERY_PROMPTS = {"bge-small-zh": "为这个句子生成表示以用于检索相关文章：",
                 "bge-base-zh": "为这个句子生成表示以用于检索相关文章：",
                 "bge-large-zh": "为这个句子生成表示以用于检索相关文章：",
                 "bge-small-en": "Represent this sentence for searching relevant passages: ",
                 "bge-base-en": "Represent this sentence for searching relevant passages: ",
                 "bge-large-en": "Represent this sentence for searching relevant passages: ",
                 "e5-": "query: "}
# Document prefixes likewise: e5 models were trained with "passage: " before every passage.
DOCUMENT_PROMPTS = {"e5-": "passage: "}
# The fallback model learns from at most this many passages, drawn with the seed: its tokenizer,
# SVD and tuning cost grow with the corpus, and a sample of reports says as much about their words.
MAX_TRAIN_TEXTS = 20000
ONE_THREAD_FROM = 5000  # passages from which the SVD runs on one BLAS thread (qa.tokens.POOL_MIN)
ENCODE_BATCH = 1000  # texts the static model tokenizes at a time
MODEL_CACHE = Path(os.environ.get("QA_MODEL_CACHE", Path.home() / ".cache" / "qa" / "models"))


class ModelUnavailable(Exception):
    """The configured model is not on this machine; the message says how to provide it."""


class Embedder:
    """A sentence-transformers model with the query/passage conventions of this project."""

    def __init__(self, model, name: str, query_prompt: str | None = None, document_prompt: str | None = None,
                 batch_size: int = 32):
        self.model = model
        self.name = name
        self.batch_size = batch_size
        # the prompts the model's own config lacks; encode_query / encode_document apply those it has
        self.added = {"query": query_prompt, "document": document_prompt}
        own = getattr(model, "prompts", None) or {}
        self.query_prompt = query_prompt or own.get("query") or None
        self.document_prompt = document_prompt or own.get("document") or None
        self.dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") \
            else model.get_sentence_embedding_dimension()

    def encode_passages(self, texts: list[str], batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        return self._encode([for_search(t) for t in texts], "document", batch_size or self.batch_size, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([for_search(t) for t in texts], "query", self.batch_size, False)

    def _encode(self, texts, task, batch_size, progress) -> np.ndarray:
        encode = getattr(self.model, f"encode_{task}", None)
        if encode is None:  # sentence-transformers before 5: the prompt by hand
            encode = self.model.encode
            prompt = self.query_prompt if task == "query" else self.document_prompt
        else:
            prompt = self.added[task]
        extra = {"prompt": prompt} if prompt else {}
        vectors = encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                         show_progress_bar=progress, **extra)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def pick_device(device: str | None = None) -> str:
    """The device asked for, else cuda, else mps, else cpu."""
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def _offline() -> None:
    """Never wait on a hub: everything this project loads is local."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model(spec: str) -> Path:
    """A local folder holding the model `spec`, or ModelUnavailable saying how to provide it.

    spec is a folder, a .zip/.tar.gz/.tgz archive of a model folder (unpacked once into
    QA_MODEL_CACHE), or a hub name found in the local Hugging Face cache.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if path.is_file() and path.name.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
        return _unpack(path)
    if path.exists():
        raise ModelUnavailable(f"{spec} is neither a model folder nor a .zip/.tar.gz archive of one")
    for folder in _hub_cache_dirs(spec):
        return folder
    raise ModelUnavailable(
        f"embedding model {spec} is not on this machine (no network downloads are made). "
        f"To use it, copy the model folder (or a .zip/.tar.gz of it) here and set "
        f"QA_EMBED_MODEL=/path/to/it or pass --embed-model /path/to/it")


def _hub_cache_dirs(name: str):
    if "/" not in name:
        return
    roots = [os.environ.get("HF_HUB_CACHE"), os.environ.get("SENTENCE_TRANSFORMERS_HOME"),
             os.environ.get("HF_HOME") and str(Path(os.environ["HF_HOME"]) / "hub"),
             str(Path.home() / ".cache" / "huggingface" / "hub")]
    for root in filter(None, roots):
        snapshots = Path(root) / f"models--{name.replace('/', '--')}" / "snapshots"
        for snap in sorted(snapshots.glob("*"), key=lambda p: p.stat().st_mtime, reverse=True):
            if (snap / "config.json").exists() or (snap / "modules.json").exists():
                yield snap


def _unpack(archive: Path) -> Path:
    stat = archive.stat()
    stamp = hashlib.sha256(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    target = MODEL_CACHE / f"{archive.name}-{stamp}"
    if not target.exists():
        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        os.replace(tmp, target)
    # an archive usually holds one top folder with the model inside
    inner = [p for p in target.iterdir() if p.is_dir()]
    if not (target / "config.json").exists() and not (target / "modules.json").exists() and len(inner) == 1:
        return inner[0]
    return target


class StaticEmbedder:
    """The corpus-trained static model read without torch: its BPE tokenizer and a table of token
    vectors, each text the mean of its tokens' vectors (what StaticEmbedding's EmbeddingBag
    computes), normalised. Asking a question with the fallback model then loads in a fraction of a
    second instead of importing torch and sentence-transformers."""

    def __init__(self, folder: Path, name: str = CORPUS_MODEL):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.weights = next(iter(load_file(str(folder / "model.safetensors")).values())).astype(np.float32)
        self.name, self.dim, self.query_prompt = name, self.weights.shape[1], None

    def encode_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False, out=None) -> np.ndarray:
        """The texts' vectors; with `out` (qa.dense.VectorFile), written there a batch at a time
        instead (a million passages' vectors are a gigabyte), and out returned."""
        into = out
        if into is None:
            out = np.zeros((len(texts), self.dim), np.float32)
        bar = None
        if progress:
            import sys

            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="向量 embedding", unit="passage", file=sys.stderr)
        # a batch at a time: the tokenizer's Encoding objects are large, keeping all alive takes gigabytes
        for start in range(0, len(texts), ENCODE_BATCH):
            vectors = self._encode([for_search(t) for t in texts[start:start + ENCODE_BATCH]])
            if into is None:
                out[start:start + ENCODE_BATCH] = vectors
            else:
                into.write(vectors)
            if bar is not None:
                bar.update(min(ENCODE_BATCH, len(texts) - start))
        if bar is not None:
            bar.close()
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([for_search(t) for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = enc.ids
            if ids:
                out[i] = self.weights[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def _is_static(folder: Path) -> bool:
    """A saved sentence-transformers model made of one StaticEmbedding module (train_corpus_model's)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (len(modules) == 1 and modules[0].get("type", "").endswith("StaticEmbedding")
            and (folder / "tokenizer.json").exists() and (folder / "model.safetensors").exists())


def load_index_model(name: str, build: Path, queries: bool = False, **options):
    """The model an index build was made with: its own corpus-trained one (read without torch), or
    a named model. With `queries`, a named model's ONNX export when ingest made one (qa/onnx_query.py:
    questions without importing torch; passages still through the full model)."""
    if name == CORPUS_MODEL:
        folder = build / "embedder"
        return StaticEmbedder(folder, name) if _is_static(folder) else load_model(str(folder), name, **options)
    if queries:
        from qa import onnx_query

        fast = onnx_query.load(resolve_model(name), name, options.get("max_length"),
                               full=lambda: load_model(name, **options))
        if fast is not None:
            return fast
    return load_model(name, **options)


def load_model(spec: str, name: str | None = None, device: str | None = None, batch_size: int = 32,
               max_length: int | None = None) -> Embedder:
    """Load a sentence-transformers model from local files only; `name` is what the index records.
    device None: chosen by pick_device; max_length None: the model's own."""
    folder = resolve_model(spec)
    _offline()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelUnavailable(f"sentence-transformers is not installed ({exc}): run `make setup`") from None
    try:
        model = SentenceTransformer(str(folder), device=pick_device(device), local_files_only=True)
    except Exception as exc:  # a broken folder raises many kinds of errors
        raise ModelUnavailable(f"cannot load embedding model from {folder}: {exc}") from None
    if max_length:
        model.max_seq_length = max_length
    own = model.prompts or {}
    named = f"{name or ''} {spec} {folder.name}".lower()
    query = None if own.get("query") else next((p for k, p in QUERY_PROMPTS.items() if k in named), None)
    document = None if own.get("document") or own.get("passage") else next(
        (p for k, p in DOCUMENT_PROMPTS.items() if k in named), None)
    return Embedder(model, name or spec, query, document, batch_size)


def train_corpus_model(texts: list[str], out_dir: Path, dim: int = 256, vocab_size: int = 8000,
                       steps: int = 200, seed: int = 0, max_texts: int = MAX_TRAIN_TEXTS) -> "StaticEmbedder":
    """Train a static-embedding model on the passages themselves and save it to out_dir; returns
    the saved model as StaticEmbedder reads it (numpy, what questions will be embedded with).

    Tokens come from a BPE tokenizer trained on the normalised corpus; their vectors start from a
    latent semantic analysis (SVD of the TF-IDF token-passage matrix, so tokens that occur in the
    same passages start close) and are then tuned with in-batch negatives on inverse-cloze pairs:
    a sentence against the rest of its passage. A corpus of more than max_texts passages is
    learnt from a seeded sample of max_texts of them.
    """
    _offline()
    import torch

    with _one_thread(torch):
        return _train(texts, out_dir, dim, vocab_size, steps, seed, max_texts)


TRAIN_APART_FROM = 5000  # passages from which the fallback model is trained in a process of its own


def train_corpus_model_apart(texts, out_dir: Path, dim: int = 256, vocab_size: int = 8000, steps: int = 200,
                             seed: int = 0, max_texts: int = MAX_TRAIN_TEXTS) -> "StaticEmbedder":
    """train_corpus_model in a spawned process, for a big corpus: torch and the training's arrays
    (most of a gigabyte) leave with it instead of staying in this process for the rest of the
    ingest, which then needs numpy only. The child is sent just the texts it learns from: a
    stand-in for all of them (`_Sample`) from which its seeded generator draws the same rows."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if len(texts) > max_texts:
        rows = np.sort(np.random.default_rng(seed).choice(len(texts), max_texts, replace=False))
        texts = _Sample(len(texts), rows, [texts[int(i)] for i in rows])
    else:
        texts = list(texts)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_train_saved, texts, out_dir, dim, vocab_size, steps, seed, max_texts).result()
    return StaticEmbedder(out_dir)


def _train_saved(*args) -> None:
    train_corpus_model(*args)


class _Sample:
    """n texts of which only those at rows (ascending) are here: what `_train` reads of a corpus
    of n texts when it learns from a sample of them."""

    def __init__(self, n: int, rows: np.ndarray, texts: list[str]):
        self.n, self.rows, self.texts = n, rows, texts

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i) -> str:
        at = int(np.searchsorted(self.rows, i))
        if at >= len(self.rows) or self.rows[at] != i:
            raise KeyError(f"text {i} is not in the sample")
        return self.texts[at]


@contextlib.contextmanager
def _one_thread(torch):
    """torch on one thread while the model trains: the other cores are segmenting by then
    (qa/tokens.py), and threads that wait for each other on a busy machine spin (the bundled
    corpus' model: 84 s on two threads, 25 s on one, under load; the same bytes). Not BLAS: SciPy's
    SVD on one OpenBLAS thread gives other last bits, so another model."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _blas_threads(limit: int | None):
    if limit is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limit, user_api="blas"):
        yield


def _train(texts, out_dir: Path, dim: int, vocab_size: int, steps: int, seed: int, max_texts: int):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    from qa.chunking import sentence_spans

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    # a big corpus' SVD on one BLAS thread: ingest segments in worker processes by then, and
    # OpenBLAS's threads spin against them (5,079 passages, on this busy 2-core machine: 20 s on
    # two threads, 6 s on one, a third of the CPU time), and the model is the same on any machine
    # (the thread count changes the last bits). A smaller corpus keeps the model it always had.
    one_thread = len(texts) >= ONE_THREAD_FROM
    if len(texts) > max_texts:
        texts = [texts[i] for i in np.sort(rng.choice(len(texts), max_texts, replace=False))]
    docs = [for_search(t) for t in texts]
    tokenizer = _train_tokenizer(docs, vocab_size)
    with _blas_threads(1 if one_thread else None):
        weights = _lsa_weights(tokenizer, docs, dim, seed)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")

    # pairs are (passage, sentence) positions; a pair's texts are made only when a batch uses it
    # (a whole corpus of "rest of the passage" strings would be ten times the corpus in memory)
    spans = [sentence_spans(doc) for doc in docs]
    pairs = []
    for d, doc_spans in enumerate(spans):
        total = sum(b - a for a, b in doc_spans)
        pairs += [(d, i) for i, (a, b) in enumerate(doc_spans) if b - a >= 8 and total - (b - a) >= 8]
    if len(pairs) >= 8:
        _tune(model, _Pairs(docs, spans, pairs), steps, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return StaticEmbedder(out_dir)


def _train_tokenizer(docs: list[str], vocab_size: int):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                                 pre_tokenizers.Digits(individual_digits=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=["[UNK]"],
                                  show_progress=False)
    tok.train_from_iterator(docs, trainer)
    return tok


def _lsa_weights(tokenizer, docs: list[str], dim: int, seed: int) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    n_vocab = tokenizer.get_vocab_size()
    rows, cols = [], []  # numpy per batch: Python lists of every token id of a big corpus take gigabytes
    for start in range(0, len(docs), 1000):
        for j, enc in enumerate(tokenizer.encode_batch(docs[start:start + 1000], add_special_tokens=False), start):
            rows.append(np.asarray(enc.ids, dtype=np.int64))
            cols.append(np.full(len(enc.ids), j, dtype=np.int64))
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    counts = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_vocab, len(docs)))
    df = np.asarray((counts > 0).sum(axis=1)).ravel()
    idf = np.log((len(docs) + 1) / (df + 1)) + 1
    tfidf = csr_matrix(counts.multiply(idf[:, None]))
    tfidf.data = np.log1p(tfidf.data)
    k = min(dim, min(tfidf.shape) - 1)
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_vocab, dim), np.float32)
    if k >= 1:  # a corpus of one or two passages has no latent structure to find
        u, s, _ = svds(tfidf, k=k, v0=rng.standard_normal(min(tfidf.shape)))
        weights[:, :k] = u * np.sqrt(s)
    weights += rng.normal(0, 1e-3, weights.shape).astype(np.float32)  # unseen tokens: tiny, not zero
    return weights


class _Pairs:
    """(sentence, rest of its passage) pairs, made on demand from (passage, sentence) positions."""

    def __init__(self, docs: list[str], spans: list[list[tuple[int, int]]], pairs: list[tuple[int, int]]):
        self.docs, self.spans, self.pairs = docs, spans, pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, n: int) -> tuple[str, str]:
        d, i = self.pairs[n]
        doc, spans = self.docs[d], self.spans[d]
        rest = "".join(doc[a:b] for k, (a, b) in enumerate(spans) if k != i)
        a, b = spans[i]
        return doc[a:b], rest


def _tune(model, pairs, steps: int, rng, batch_size: int = 64) -> None:
    """In-batch-negatives (InfoNCE) training for a fixed number of steps (reproducible)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=2e-3)
    model.train()
    for _ in range(steps):
        batch = [pairs[i] for i in rng.permutation(len(pairs))[:batch_size]]
        a = model(model.preprocess([q for q, _ in batch]))["sentence_embedding"]
        b = model(model.preprocess([p for _, p in batch]))["sentence_embedding"]
        logits = torch.nn.functional.normalize(a, dim=-1) @ torch.nn.functional.normalize(b, dim=-1).T
        loss = torch.nn.functional.cross_entropy(logits * 20, torch.arange(len(batch)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
