"""Measure hit@1 / hit@5 per retrieval mode and dense weight on the dev set's tune and holdout
parts (qa/splits.py), to choose the fusion weights (README, "Choosing the fusion weights"): choose
on tune, report holdout.

    python scripts/tune_fusion.py --index index [--weights 0.05,0.1,0.2,0.5,1]
"""

import argparse
from pathlib import Path

from qa.config import Settings
from qa.evaluation import load_dataset, relevant
from qa.pipeline import Assistant
from qa.splits import PARTS, part_of

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="index")
    parser.add_argument("--weights", default="0.05,0.1,0.2,0.5,1")
    args = parser.parse_args()
    assistant = Assistant(Settings.resolve(index_dir=args.index))
    _cache_queries(assistant.retriever)
    rows = [r for r in load_dataset(ROOT / "data" / "eval" / "dev.jsonl") if r["answerable"]]
    parts = {p: [r for r in rows if part_of(r) == p] for p in PARTS}
    print(f"model: {assistant.index.manifest.embed_model}; answerable questions: "
          + ", ".join(f"{p} {len(parts[p])}" for p in PARTS))
    print("| mode | dense weight | " + " | ".join(f"{p} hit@1 | {p} hit@5" for p in PARTS) + " |")
    print("| --- | --- |" + " --- | --- |" * len(PARTS))
    runs = [("bm25", 0.0), ("dense", 1.0)] + [("hybrid", float(w)) for w in args.weights.split(",")]
    for mode, weight in runs:
        assistant.retriever.dense_weight = weight
        cells = []
        for p in PARTS:
            h1 = h5 = 0
            for r in parts[p]:
                texts = [h.passage.text for h in assistant.search(r["question"], 5, mode)]
                h1 += bool(texts) and relevant(r, texts[0])
                h5 += any(relevant(r, t) for t in texts)
            n = max(len(parts[p]), 1)
            cells += [f"{h1 / n:.3f}", f"{h5 / n:.3f}"]
        shown = "–" if mode != "hybrid" else f"{weight:.2f}"
        print(f"| {mode} | {shown} | " + " | ".join(cells) + " |", flush=True)


def _cache_queries(retriever) -> None:
    """Embed each question once, not once per run: a real model on a CPU takes most of the time."""
    embedder = retriever.embedder
    if embedder is None:
        return
    seen, encode = {}, embedder.encode_queries

    def cached(texts):
        key = tuple(texts)
        if key not in seen:
            seen[key] = encode(texts)
        return seen[key]

    embedder.encode_queries = cached


if __name__ == "__main__":
    main()
