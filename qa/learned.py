"""The answerer's learned models, stored as versioned JSON, and how they train.

Three models in one file (qa/models/answerer.json, rebuilt by scripts/train_answerer.py):
- `sentence`: a conditional logit over a question's candidate sentences (which one answers);
- `span`: gradient-boosted trees ranking the candidate spans of the chosen sentence (the short answer);
- `answerable`: gradient-boosted trees giving the log-odds that the chosen answer is right,
  whose operating threshold was chosen on tune data; below it the answer is refused.
Linear models standardise features with the training means and scales stored beside the weights.
Trees are trained with LightGBM (a training-time dependency only) and evaluated here with numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

FORMAT = "qa-answerer/2"
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
    def from_json(cls, d: dict) -> "Linear":
        return cls(list(d["features"]), np.array(d["weights"]), np.array(d["mean"]), np.array(d["scale"]),
                   float(d.get("bias", 0.0)))


@dataclass
class Trees:
    """A sum of regression trees. Node arrays have one row per tree (padded): the split feature
    (-1 at a leaf), its threshold (go left when x <= threshold), the children, the leaf values."""
    names: list[str]
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    depth: int

    def score(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        X = np.atleast_2d(x)
        pair_feature, pair_threshold, pair_of, child, value, root, active, unsort = self._flat()
        rows = len(X)
        # every distinct split (feature, threshold) once per row: the trees share most of theirs
        goes_left = (X[:, pair_feature] <= pair_threshold).ravel()  # NaN goes right, as in score_by_level
        offset = np.arange(rows) * len(pair_feature)
        node = np.repeat(root[:, None], rows, axis=1)  # trees × rows, deepest trees first, each node as 2·node
        at = np.empty(node.shape, np.int64)
        for count in active:  # level by level, the trees not yet at a leaf everywhere: a prefix
            now, where = node[:count], at[:count]
            np.take(pair_of, now, out=where, mode="clip")
            where += offset
            np.add(now, np.take(goes_left, where, mode="clip"), out=where)
            np.take(child, where, out=now, mode="clip")
        # each row's leaf values in the trees' own order, summed as one contiguous row: the same sums
        out = np.ascontiguousarray(np.take(value, node[unsort]).T).sum(axis=1)
        return out if x.ndim > 1 else out[0]

    def _flat(self):
        """The node arrays of all trees in one, each node n at 2·n: its split as a position among
        the distinct (feature, threshold) pairs, its children at 2·n (right) and 2·n + 1 (left),
        each as 2·child; a leaf's children are itself. The trees are ordered deepest first, so that
        at each level the trees with splits left are a prefix (`active`: its length per level);
        `unsort` gives the trees' own order back."""
        if getattr(self, "_flat_cache", None) is None:
            trees, width = self.feature.shape
            splits = self.feature >= 0
            pairs = sorted(set(zip(self.feature[splits].tolist(), self.threshold[splits].tolist())))
            number = {p: i for i, p in enumerate(pairs)}
            steps = np.array([self._steps(t) for t in range(trees)], dtype=np.int64)
            order = np.argsort(-steps, kind="stable")
            start = np.arange(trees) * width  # tree t (in the new order) at nodes start[t]…
            here = start[:, None] + np.arange(width)[None, :]
            feature, threshold = self.feature[order], self.threshold[order]
            split = feature >= 0
            pair_of = np.zeros((trees, width), np.int64)
            for t, n in zip(*np.nonzero(split)):
                pair_of[t, n] = number[(int(feature[t, n]), float(threshold[t, n]))]
            left = np.where(split, self.left[order] + start[:, None], here)
            right = np.where(split, self.right[order] + start[:, None], here)
            self._flat_cache = (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.float64),
                                np.repeat(pair_of.ravel(), 2), 2 * np.stack([right, left], axis=-1).ravel(),
                                np.repeat(self.value[order].ravel(), 2), 2 * start,
                                [int((steps > level).sum()) for level in range(int(steps.max(initial=0)))],
                                np.argsort(order, kind="stable"))
        return self._flat_cache

    def _steps(self, t: int) -> int:
        """How many splits the longest path of tree t passes."""
        longest, todo = 0, [(0, 0)]
        while todo:
            n, level = todo.pop()
            if self.feature[t, n] < 0:
                longest = max(longest, level)
            else:
                todo += [(int(self.left[t, n]), level + 1), (int(self.right[t, n]), level + 1)]
        return longest

    def score_by_level(self, x: np.ndarray) -> np.ndarray:
        """score() as every pair descending every level: the reference it is tested against."""
        x = np.asarray(x, dtype=np.float64)
        X = np.atleast_2d(x)
        t, rows = np.arange(len(self.feature)), np.arange(len(X))[:, None]
        node = np.zeros((len(X), len(t)), dtype=np.int64)
        for _ in range(self.depth):
            f = self.feature[t, node]
            down = np.where(X[rows, np.maximum(f, 0)] <= self.threshold[t, node], self.left[t, node], self.right[t, node])
            node = np.where(f < 0, node, down)
        out = self.value[t, node].sum(axis=1)
        return out if x.ndim > 1 else out[0]

    def to_json(self) -> dict:
        trees = []
        for i in range(len(self.feature)):
            n = int((self.left[i] >= 0).sum())  # padding has left == -1
            trees.append({"feature": self.feature[i, :n].tolist(), "threshold": self.threshold[i, :n].tolist(),
                          "left": self.left[i, :n].tolist(), "right": self.right[i, :n].tolist(),
                          "value": _r(self.value[i, :n])})
        return {"kind": "trees", "features": self.names, "depth": self.depth, "trees": trees}

    @classmethod
    def from_json(cls, d: dict) -> "Trees":
        trees = d["trees"]
        width = max(len(t["feature"]) for t in trees)

        def pad(key, fill, dtype):
            return np.array([t[key] + [fill] * (width - len(t[key])) for t in trees], dtype=dtype)
        return cls(list(d["features"]), pad("feature", -1, np.int64), pad("threshold", 0.0, np.float64),
                   pad("left", -1, np.int64), pad("right", -1, np.int64), pad("value", 0.0, np.float64), int(d["depth"]))

    @classmethod
    def from_lightgbm(cls, booster, names) -> "Trees":
        """Flatten a LightGBM booster's trees (its JSON dump) into node arrays."""
        trees, depth = [], 1
        for info in booster.dump_model()["tree_info"]:
            nodes: dict[str, list] = {"feature": [], "threshold": [], "left": [], "right": [], "value": []}

            def add(node, level):
                nonlocal depth
                depth = max(depth, level)
                i = len(nodes["feature"])  # a leaf until it splits: no feature, its children itself
                for key, blank in (("feature", -1), ("threshold", 0.0), ("left", i), ("right", i), ("value", 0.0)):
                    nodes[key].append(blank)
                if "leaf_value" in node:
                    nodes["value"][i] = float(node["leaf_value"])
                    return i
                if node.get("decision_type", "<=") != "<=":
                    raise ValueError(f"unsupported split {node.get('decision_type')!r}")
                nodes["feature"][i], nodes["threshold"][i] = int(node["split_feature"]), float(node["threshold"])
                nodes["left"][i] = add(node["left_child"], level + 1)
                nodes["right"][i] = add(node["right_child"], level + 1)
                return i
            add(info["tree_structure"], 1)
            trees.append(nodes)
        return cls.from_json({"features": list(names), "depth": depth, "trees": trees})


def _model(d: dict, names: tuple[str, ...]):
    if tuple(d["features"]) != tuple(names):
        raise ValueError(f"model features {d['features']} differ from the code's {list(names)}: "
                         "rebuild the model with scripts/train_answerer.py")
    return Trees.from_json(d) if d.get("kind") == "trees" else Linear.from_json(d)


@dataclass
class Models:
    sentence: Linear | Trees
    span: Linear | Trees
    answerable: Linear | Trees
    threshold: float  # least P(right) to answer
    trained_on: dict
    # refusal features under which at most 1 in 20 training answers was right (scripts/train_answerer.py
    # checks each on the data): an answer with any of them above 0 is refused whatever the trees say
    vetoes: list[str] = field(default_factory=list)
    # least span probability for a short answer to a question that asks for no kind of thing
    # (chosen by scripts/train_answerer.py on out-of-fold F1; below it the sentence is the answer)
    short_threshold: float = 0.5
    # P(right) = sigmoid(a * trees' score + b): the trees learn from every training answer, (a, b) is
    # fitted on the questions people wrote, out of fold, so that the confidence shown is their odds
    calibration: tuple[float, float] = (1.0, 0.0)
    # span features under which the gold answer was all but never the span while the sentence gave
    # another number without them (scripts/train_answerer.py checks each): such a span is passed over
    span_vetoes: list[str] = field(default_factory=list)

    def confidence(self, Z: np.ndarray) -> np.ndarray:
        return self.calibrated(self.answerable.score(Z))

    def calibrated(self, scores: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return sigmoid(a * scores + b)


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
    return Models(_model(d["sentence"], SENTENCE_FEATURES), _model(d["span"], SPAN_FEATURES),
                  _model(d["answerable"], ANSWERABLE_FEATURES), float(d["threshold"]), d.get("trained_on", {}),
                  [v for v in d.get("vetoes", []) if v in ANSWERABLE_FEATURES], float(d.get("short_threshold", 0.5)),
                  tuple(float(v) for v in d.get("calibration", (1.0, 0.0))),
                  [v for v in d.get("span_vetoes", []) if v in SPAN_FEATURES])


def save(models: Models, path: Path) -> None:
    d = {"format": FORMAT, "trained_on": models.trained_on, "threshold": round(models.threshold, 4), "vetoes": models.vetoes,
         "span_vetoes": models.span_vetoes, "short_threshold": round(models.short_threshold, 4), "calibration": _r(models.calibration),
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


LIGHTGBM = dict(learning_rate=0.05, num_leaves=7, min_data_in_leaf=20, feature_fraction=0.8, bagging_fraction=0.8,
                bagging_freq=1, lambda_l2=1.0, seed=1, deterministic=True, force_row_wise=True, num_threads=1,
                verbose=-1)


def fit_trees(X: np.ndarray, y: np.ndarray, names, objective: str, rounds: int = 200, groups=None,
              weights=None, **params) -> Trees:
    """Gradient-boosted trees: `objective` "binary" (log-odds that y is 1) or "lambdarank"
    (`groups`: sizes of consecutive candidate groups). Single-threaded, seeded: deterministic."""
    import lightgbm

    params = {**LIGHTGBM, **params, "objective": objective}
    if objective == "lambdarank":
        params["lambdarank_truncation_level"] = 5
    data = lightgbm.Dataset(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), group=groups,
                            weight=weights, feature_name=[f"f{i}" for i in range(len(names))])
    return Trees.from_lightgbm(lightgbm.train(params, data, rounds), names)


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))
