"""The answerer's learned models: small linear models stored as versioned JSON, and how they train.

Three models in one file (qa/models/answerer.json, rebuilt by scripts/train_answerer.py):
- `sentence`: a conditional logit over a question's candidate sentences (which one answers);
- `span`: a conditional logit over the candidate spans of the chosen sentence (the short answer);
- `answerable`: a logistic regression giving the probability that the chosen answer is right,
  whose operating threshold was chosen on tune data; below it the answer is refused.
Features are standardised with the training means and scales stored beside the weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

FORMAT = "qa-answerer/1"
MODEL_FILE = Path(__file__).resolve().parent / "models" / "answerer.json"


@dataclass
class Linear:
    names: list[str]
    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    bias: float = 0.0

    def score(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict:
        return {"features": self.names, "weights": _r(self.weights), "mean": _r(self.mean),
                "scale": _r(self.scale), "bias": round(float(self.bias), 6)}

    @classmethod
    def from_json(cls, d: dict, names: tuple[str, ...] | None = None) -> "Linear":
        if names is not None and tuple(d["features"]) != tuple(names):
            raise ValueError(f"model features {d['features']} differ from the code's {list(names)}: "
                             "rebuild the model with scripts/train_answerer.py")
        return cls(list(d["features"]), np.array(d["weights"]), np.array(d["mean"]), np.array(d["scale"]),
                   float(d.get("bias", 0.0)))


@dataclass
class Models:
    sentence: Linear
    span: Linear
    answerable: Linear
    threshold: float  # least P(right) to answer
    trained_on: dict


def _r(a) -> list[float]:
    return [round(float(v), 6) for v in a]


@lru_cache(maxsize=4)
def load(path: str | Path = MODEL_FILE) -> Models:
    from qa.features import SENTENCE_FEATURES
    from qa.spans import ANSWERABLE_FEATURES, SPAN_FEATURES

    d = json.loads(Path(path).read_text(encoding="utf-8"))
    if d.get("format") != FORMAT:
        raise ValueError(f"{path}: answerer model format {d.get('format')!r}, expected {FORMAT!r}: "
                         "rebuild it with scripts/train_answerer.py")
    return Models(Linear.from_json(d["sentence"], SENTENCE_FEATURES), Linear.from_json(d["span"], SPAN_FEATURES),
                  Linear.from_json(d["answerable"], ANSWERABLE_FEATURES), float(d["threshold"]), d.get("trained_on", {}))


def save(models: Models, path: Path) -> None:
    d = {"format": FORMAT, "trained_on": models.trained_on, "threshold": round(models.threshold, 4),
         "sentence": models.sentence.to_json(), "span": models.span.to_json(), "answerable": models.answerable.to_json()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def fit_choice(groups: list[tuple[np.ndarray, np.ndarray]], names, l2: float = 1.0, steps: int = 300,
               group_weights: list[float] | None = None) -> Linear:
    """Conditional logit: in each group (candidates X, 0/1 labels y with at least one 1), maximise
    the log of the softmax mass on the positives. Full-batch L-BFGS over all groups at once;
    deterministic."""
    from scipy.optimize import minimize

    weights = group_weights or [1.0] * len(groups)
    kept = [(X, y, w) for (X, y), w in zip(groups, weights) if y.any() and len(y) > 1]
    X = np.vstack([X for X, _, _ in kept])
    y = np.concatenate([y for _, y, _ in kept]).astype(bool)
    gw = np.array([w for _, _, w in kept])
    starts = np.cumsum([0] + [len(v) for _, v, _ in kept[:-1]])
    g = np.repeat(np.arange(len(kept)), [len(v) for _, v, _ in kept])
    mean, scale = _standardise(X)
    Z = (X - mean) / scale

    def loss(w):
        s = Z @ w
        s = s - np.maximum.reduceat(s, starts)[g]
        e = np.exp(s)
        total, pos = np.add.reduceat(e, starts), np.add.reduceat(e * y, starts)
        value = -(gw * np.log(pos / total)).sum() + 0.5 * l2 * w @ w
        r = gw[g] * (e * y / pos[g] - e / total[g])
        return value, l2 * w - Z.T @ r

    w = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B", options={"maxiter": steps}).x
    return Linear(list(names), w, mean, scale)


def fit_binary(X: np.ndarray, y: np.ndarray, names, l2: float = 1.0, steps: int = 500) -> Linear:
    """Logistic regression with an intercept, L2 on the weights only."""
    from scipy.optimize import minimize

    mean, scale = _standardise(X)
    Z = (X - mean) / scale

    def loss(wb):
        w, b = wb[:-1], wb[-1]
        s = Z @ w + b
        p = 1 / (1 + np.exp(-s))
        ll = np.logaddexp(0, s) - y * s
        g = p - y
        return ll.sum() + 0.5 * l2 * w @ w, np.append(Z.T @ g + l2 * w, g.sum())

    wb = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B", options={"maxiter": steps}).x
    return Linear(list(names), wb[:-1], mean, scale, float(wb[-1]))


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))
