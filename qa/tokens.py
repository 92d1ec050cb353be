"""The passages' search tokens as arrays, for BM25 (qa/bm25.py): token ids into a vocabulary of
words in the order they first occur, and where each passage's ids start.

A big corpus is segmented by a process per core, started as soon as the passages are known, so
that jieba runs while this process trains the fallback model and embeds (`Segmenting.start`,
then `result`). A worker sends back each chunk's ids into the chunk's own words, not lists of
strings: a few thousand words a chunk are mapped into the vocabulary here instead of every token.
Passages of one report share their jieba blocks (qa.lexical.tokenize): a block of the section path
or of the overlap sentence is segmented once per report.
"""

from __future__ import annotations

import os
import threading
from array import array
from pathlib import Path

import numpy as np

from qa.bm25_disk import TokenFile
from qa.lexical import few_cuts, tokenize

POOL_MIN = 5000  # passages below which starting worker processes (a second or two each) does not pay
POOL_CHUNK = 1000  # passages a worker segments at a time
MAX_PROCESSES = 4
# passages up to which their blocks are looked up in jieba's lexicon (qa/jieba_lexicon.py) rather
# than its whole dictionary loaded (about half a second). Measured, segmenting included, each in a
# fresh process: 25 passages 0.10 s against 0.71 s, 1,000 0.94 against 1.47 s, 3,000 2.5 against
# 3.1 s; the lookups hold a tuple per character, so no more than this at once
FEW = 1000


def chunk_ids(texts, groups, cuts=None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, ids, lengths) of texts: each text's tokens as ids into `words` (first seen first), and
    how many each text has. Consecutive texts of the same group (a report) share jieba's blocks.
    `cuts`: qa.lexical.few_cuts', else jieba's with its whole dictionary."""
    vocab: dict[str, int] = {}
    ids, lengths = array("i"), array("q")
    blocks, last = {}, object()
    for text, group in zip(texts, groups):
        if group != last:
            blocks, last = {}, group
        tokens = tokenize(text, blocks, cuts)
        ids.extend([vocab.setdefault(t, len(vocab)) for t in tokens])
        lengths.append(len(tokens))
    return list(vocab), np.frombuffer(ids, np.int32).copy(), np.frombuffer(lengths, np.int64).copy()


class Segmenting:
    """The tokens of `total` texts (any iterable, read once) as (ids, starts, words), the same
    whether made here or by workers (tests/test_tokens.py). `groups` gives each text's report (None:
    every text its own)."""

    def __init__(self, texts, total: int, groups=None, progress: bool = False, processes: int | None = None,
                 out: Path | None = None):
        self.texts, self.total, self.progress = texts, total, progress
        self.groups = groups if groups is not None else range(total)
        self.processes = processes or min(os.cpu_count() or 1, MAX_PROCESSES)
        # each chunk, as it comes, into the file `out` (qa/bm25_disk.py), or kept here to be merged
        self.out = Path(out) if out is not None else None
        self.sink = TokenFile(self.out) if self.out is not None else _Parts()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self.stopped = False

    @classmethod
    def start(cls, texts, total: int, groups=None, progress: bool = False, processes: int | None = None,
              out: Path | None = None):
        """Begin segmenting in worker processes when there are many texts (a thread here feeds them
        and gathers their chunks); a few are segmented here when `result` is asked for. With `out`,
        the ids go into that .npy file as they come (bounded memory for a big corpus)."""
        job = cls(texts, total, groups, progress, processes, out)
        if total >= POOL_MIN and job.processes >= 2:
            job.thread = threading.Thread(target=job._pooled, name="qa-segmenting", daemon=True)
            job.thread.start()
        return job

    def result(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(token ids, start of each text's ids (total + 1), words); with `out`, the ids are that
        file, mapped."""
        if self.thread is None:
            bar = _bar(self.total, self.progress)
            texts, cuts = self.texts, None
            if self.total <= FEW:  # a changed report or two: jieba's dictionary looked up, not loaded
                texts = list(texts)
                cuts = few_cuts(texts)
            self.sink.add(*chunk_ids(texts, self.groups, cuts))
            if bar is not None:
                bar.update(self.total)
                bar.close()
        else:
            self.thread.join()
            if self.error is not None:
                self.sink.discard()
                raise self.error
        if self.out is None:
            return _merged(self.sink.parts)
        starts, words = self.sink.close()
        return np.load(self.out, mmap_mode="r", allow_pickle=False), starts, words

    def stop(self) -> None:
        """Give up (the build failed): no more chunks are handed out, the workers end after theirs."""
        self.stopped = True
        if self.thread is not None:
            self.thread.join()
        self.sink.discard()

    def _pooled(self) -> None:
        import itertools
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        bar = _bar(self.total, self.progress)
        try:
            pairs = zip(self.texts, self.groups)
            chunks = iter(lambda: tuple(zip(*itertools.islice(pairs, POOL_CHUNK))), ())
            # spawn, not fork: this process holds torch's threads by now, and a worker needs only jieba
            with ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn")) as pool:
                pending = [pool.submit(chunk_ids, *c) for c in itertools.islice(chunks, 2 * self.processes)]
                while pending:  # a few chunks in flight, not the whole corpus' texts
                    part = pending.pop(0).result()
                    chunk = None if self.stopped else next(chunks, None)
                    if chunk is not None:
                        pending.append(pool.submit(chunk_ids, *chunk))
                    if not self.stopped:
                        self.sink.add(*part)
                    if bar is not None:
                        bar.update(len(part[2]))
        except BaseException as exc:  # noqa: BLE001 - raised again by result(), in the caller's thread
            self.error = exc
        finally:
            if bar is not None:
                bar.close()


class _Parts:
    """The chunks kept as they came, merged by `_merged` at the end (a small corpus, or tests)."""

    def __init__(self):
        self.parts: list[tuple[list[str], np.ndarray, np.ndarray]] = []

    def add(self, words, ids, lengths) -> None:
        self.parts.append((words, ids, lengths))

    def discard(self) -> None:
        self.parts = []


def _merged(parts) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One vocabulary for the chunks, in the order their words first occur (as segmenting all the
    texts in one go would number them), and their ids mapped into it."""
    vocab: dict[str, int] = {}
    ids, lengths = [], [np.zeros(1, np.int64)]
    for words, chunk, chunk_lengths in parts:
        mapping = np.array([vocab.setdefault(w, len(vocab)) for w in words], dtype=np.int32)
        ids.append(mapping[chunk] if len(chunk) else chunk)
        lengths.append(chunk_lengths)
    ids = np.concatenate(ids) if ids else np.zeros(0, np.int32)
    return ids.astype(np.int32, copy=False), np.cumsum(np.concatenate(lengths)), list(vocab)


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc="分词 tokenizing", unit="passage", file=sys.stderr)
