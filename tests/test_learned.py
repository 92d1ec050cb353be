import json

import numpy as np
import pytest

from qa import learned
from qa.features import SENTENCE_FEATURES
from qa.spans import ANSWERABLE_FEATURES, SPAN_FEATURES


def test_fit_choice_learns_which_feature_marks_the_answer():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(200):
        X = rng.normal(size=(6, 3))
        y = np.zeros(6)
        y[np.argmax(X[:, 1] + 0.1 * rng.normal(size=6))] = 1  # feature 1 decides
        groups.append((X, y))
    model = learned.fit_choice(groups, ["a", "b", "c"])
    assert model.weights[1] > 3 * max(abs(model.weights[0]), abs(model.weights[2]))
    picked = [np.argmax(model.score(X)) == np.argmax(y) for X, y in groups]
    assert np.mean(picked) > 0.9


def test_fit_choice_group_weights_count_like_repeated_groups():
    rng = np.random.default_rng(1)
    groups = [(rng.normal(size=(4, 2)), np.eye(4)[i % 4]) for i in range(40)]
    weighted = learned.fit_choice(groups, ["a", "b"], l2=0.0, group_weights=[3.0] * 20 + [1.0] * 20)
    repeated = learned.fit_choice(groups[:20] * 3 + groups[20:], ["a", "b"], l2=0.0)
    # the same model in raw units (the standardisation differs with the repeated rows)
    assert np.allclose(weighted.weights / weighted.scale, repeated.weights / repeated.scale, atol=1e-3)


def test_fit_binary_is_calibrated_on_separable_noise():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 1))
    y = (rng.random(2000) < learned.sigmoid(2 * x[:, 0])).astype(float)
    model = learned.fit_binary(x, y, ["x"], l2=0.0)
    p = learned.sigmoid(model.score(x))
    assert abs(p.mean() - y.mean()) < 0.01
    assert model.weights[0] / model.scale[0] == pytest.approx(2, abs=0.3)


def test_the_shipped_model_loads_and_matches_the_code():
    models = learned.load()
    assert models.sentence.names == list(SENTENCE_FEATURES)
    assert models.span.names == list(SPAN_FEATURES)
    assert models.answerable.names == list(ANSWERABLE_FEATURES)
    assert 0 < models.threshold < 1
    assert "CMRC" in models.trained_on["data"] and "DRCD" in models.trained_on["data"]
    assert learned.MODEL_FILE.stat().st_size < 5_000_000


def test_save_and_load_round_trip(tmp_path):
    models = learned.load()
    path = tmp_path / "m.json"
    learned.save(models, path)
    again = learned.load(path)
    x = np.ones(len(SENTENCE_FEATURES))
    assert again.sentence.score(x) == pytest.approx(models.sentence.score(x), abs=1e-4)
    assert again.threshold == pytest.approx(models.threshold, abs=1e-4)
    assert again.calibration == pytest.approx(models.calibration, abs=1e-5)
    assert again.vetoes == models.vetoes and again.span_vetoes == models.span_vetoes


def test_the_confidence_is_the_calibrated_trees_score():
    models = learned.load()
    a, b = models.calibration
    assert a > 0  # a higher score is never a lower confidence
    z = np.zeros((1, len(ANSWERABLE_FEATURES)))
    assert models.confidence(z)[0] == pytest.approx(float(learned.sigmoid(a * models.answerable.score(z)[0] + b)))


@pytest.mark.parametrize("change", ["format", "features"])
def test_a_model_of_another_format_or_features_is_refused(tmp_path, change):
    d = json.loads(learned.MODEL_FILE.read_text(encoding="utf-8"))
    if change == "format":
        d["format"] = "qa-answerer/0"
    else:
        d["sentence"]["features"] = d["sentence"]["features"][:-1] + ["something_else"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ValueError, match="train_answerer"):
        learned.load(path)


@pytest.mark.parametrize("objective", ["binary", "lambdarank"])
def test_trees_evaluate_exactly_as_lightgbm_and_survive_json(objective, tmp_path):
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 4))
    X[:, 3] = rng.integers(0, 2, 600)  # a 0/1 feature, as many of ours are
    y = ((X[:, 0] > 0.3) & (X[:, 3] == 1) | (X[:, 1] > 1.2)).astype(float)
    groups = [6] * 100 if objective == "lambdarank" else None
    model = learned.fit_trees(X, y, ["a", "b", "c", "d"], objective, rounds=40, groups=groups)
    params = {**learned.LIGHTGBM, "objective": objective}
    booster = lightgbm.train(params, lightgbm.Dataset(X, y, group=groups), 40)
    assert np.allclose(model.score(X), booster.predict(X, raw_score=True), atol=1e-5)
    again = learned.Trees.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(again.score(X), model.score(X), atol=1e-5)
    assert again.score(X[0]) == pytest.approx(model.score(X[:1])[0])


def test_trees_learn_an_interaction_a_linear_model_cannot():
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(4)
    X = rng.integers(0, 2, size=(2000, 2)).astype(float)
    y = (X[:, 0] != X[:, 1]).astype(float)  # exclusive or
    trees = learned.fit_trees(X, y, ["a", "b"], "binary", rounds=60)
    line = learned.fit_binary(X, y, ["a", "b"])
    right = lambda s: ((s > 0) == (y == 1)).mean()  # noqa: E731
    assert right(trees.score(X)) == 1.0
    assert right(line.score(X)) < 0.8


def test_trees_by_their_paths_give_what_walking_them_gives_bit_for_bit():
    """score() compares each distinct split once and walks only the trees with splits left (deepest
    first); score_by_level walks every tree every level."""
    from qa import ranking

    models = learned.load()
    rng = np.random.default_rng(5)
    for trees in (models.span, models.answerable, ranking.load().trees):
        X = np.round(rng.normal(size=(300, len(trees.names))) * 2, 1)  # ties with thresholds too
        X[rng.random(X.shape) < 0.3] = 0.0
        X[rng.random(X.shape) < 0.05] = np.nan
        X[:20] = trees.threshold[0, 0]  # exactly on a split
        np.testing.assert_array_equal(trees.score(X), trees.score_by_level(X))
        assert trees.score(X[7]) == trees.score_by_level(X[7])
        assert trees.score(X[:0]).shape == (0,)


def test_a_tree_that_is_one_leaf_and_an_unbalanced_one():
    leaf_only = {"feature": [-1], "threshold": [0.0], "left": [0], "right": [0], "value": [0.25]}
    # a chain: x0 <= 1 → leaf 1.0, else x1 <= 2 → leaf 2.0, else leaf 3.0
    chain = {"feature": [0, -1, 1, -1, -1], "threshold": [1.0, 0, 2.0, 0, 0], "left": [1, 1, 3, 3, 4],
             "right": [2, 1, 4, 3, 4], "value": [0, 1.0, 0, 2.0, 3.0]}
    trees = learned.Trees.from_json({"features": ["a", "b"], "depth": 3, "trees": [leaf_only, chain]})
    X = np.array([[0.0, 9.0], [1.0, 0.0], [1.5, 2.0], [1.5, 2.5], [np.nan, 0.0]])
    np.testing.assert_array_equal(trees.score(X), [1.25, 1.25, 2.25, 3.25, 2.25])
    np.testing.assert_array_equal(trees.score(X), trees.score_by_level(X))
