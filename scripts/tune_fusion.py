"""Measure hit@1 / hit@5 on the dev set per retrieval mode and dense weight, to choose the
fusion weights (README, "Choosing the fusion weights").

    python scripts/tune_fusion.py --index index [--weights 0,0.05,0.1,0.2,0.5,1]
"""

import argparse
from pathlib import Path

from qa.config import Settings
from qa.evaluation import load_dataset, relevant
from qa.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="index")
    parser.add_argument("--weights", default="0.05,0.1,0.2,0.5,1")
    args = parser.parse_args()
    assistant = Assistant(Settings.resolve(index_dir=args.index))
    rows = [r for r in load_dataset(ROOT / "data" / "eval" / "dev.jsonl") if r["answerable"]]
    print(f"model: {assistant.index.manifest.embed_model}, {len(rows)} answerable questions")
    print(f"{'mode':8} {'dense w':>8} {'hit@1':>6} {'hit@5':>6}")
    runs = [("bm25", 0.0), ("dense", 1.0)] + [("hybrid", float(w)) for w in args.weights.split(",")]
    for mode, weight in runs:
        assistant.retriever.dense_weight = weight
        h1 = h5 = 0
        for r in rows:
            texts = [h.passage.text for h in assistant.search(r["question"], 5, mode)]
            h1 += bool(texts) and relevant(r, texts[0])
            h5 += any(relevant(r, t) for t in texts)
        print(f"{mode:8} {weight:8.2f} {h1 / len(rows):6.3f} {h5 / len(rows):6.3f}")


if __name__ == "__main__":
    main()
