"""Metrics: each built-in against sklearn.metrics, user metrics and their one-line errors, latency, the registry."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import sklearn.metrics as skm

from stitchc.evolve.metrics.accuracy import accuracy
from stitchc.evolve.metrics.f1 import f1
from stitchc.evolve.metrics.latency import latency
from stitchc.evolve.metrics.loss import loss
from stitchc.evolve.metrics.registry import COST_METRICS, SCORE_METRICS
from stitchc.evolve.metrics.regression import mae, mse
from stitchc.evolve.metrics.topk import topk
from stitchc.evolve.metrics.user import MetricError, user_metric
from stitchc.evolve.objectives import measure, scores
from stitchc.grammar.metric_table import BUILTIN_METRICS
from stitchc.grammar.program import MetricSpec, ObjectiveSpec
from stitchc.ir.samples import as_samples

CLASSES = 7


@pytest.fixture(scope="module")
def scored():
    """Continuous random scores (no ties) for 500 samples of 7 classes, and labels that follow them loosely."""
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(500, CLASSES)).astype(np.float32)
    labels = np.where(rng.random(500) < 0.6, scores.argmax(1), rng.integers(0, CLASSES, 500)).astype(np.int64)
    return scores, labels


def test_accuracy_matches_sklearn(scored):
    scores, labels = scored
    assert accuracy(scores, labels) == skm.accuracy_score(labels, scores.argmax(1))


@pytest.mark.parametrize("k", [1, 2, 5])
def test_topk_matches_sklearn(scored, k):
    scores, labels = scored
    expected = skm.top_k_accuracy_score(labels, scores, k=k, labels=range(CLASSES))
    assert math.isclose(topk(scores, labels, k), expected, rel_tol=1e-12)


def test_top5_is_topk_with_k_5(scored):
    assert SCORE_METRICS["top5"](*scored) == topk(*scored, k=5)


def test_topk_counts_ties_against_the_model():
    constant = np.zeros((4, 10), np.float32)
    assert topk(constant, np.array([0, 3, 5, 9]), 5) == 0.0  # nine others score as high as the label
    assert topk(constant, np.array([0, 3, 5, 9]), 10) == 1.0


def test_macro_f1_matches_sklearn(scored):
    scores, labels = scored
    assert math.isclose(f1(scores, labels), skm.f1_score(labels, scores.argmax(1), average="macro"), rel_tol=1e-12)


def test_macro_f1_with_classes_never_predicted_or_never_labelled():
    scores = np.eye(5, dtype=np.float32)[[0, 0, 1, 4, 4, 4]]  # predicts 0, 0, 1, 4, 4, 4
    labels = np.array([0, 2, 1, 2, 4, 4])  # class 2 is never predicted, class 4 twice right; 3 occurs nowhere
    expected = skm.f1_score(labels, scores.argmax(1), average="macro", zero_division=0)
    assert math.isclose(f1(scores, labels), expected, rel_tol=1e-12)
    assert math.isclose(expected, (2 / 3 + 1 + 0 + 0.8) / 4)


def test_loss_matches_sklearn_log_loss(scored):
    scores, labels = scored
    probabilities = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    expected = skm.log_loss(labels, probabilities, labels=range(CLASSES))
    assert math.isclose(loss(scores, labels), expected, rel_tol=1e-6)


def test_loss_is_stable_for_large_logits():
    scores = np.array([[1000.0, 0.0], [0.0, 1000.0]], np.float32)
    assert loss(scores, np.array([0, 0])) == pytest.approx(500.0)  # 0 for the first sample, 1000 for the second
    assert loss(np.zeros((3, 10), np.float32), np.array([1, 2, 3])) == pytest.approx(math.log(10))


@pytest.mark.parametrize("shape", [(200,), (200, 3)])
def test_regression_errors_match_sklearn(shape):
    rng = np.random.default_rng(1)
    targets = rng.normal(size=shape)
    outputs = (targets + rng.normal(scale=0.3, size=shape)).astype(np.float32)
    outputs = outputs.reshape(200, -1)  # a model's [N, 1] or [N, 3] output
    assert math.isclose(mse(outputs, targets), skm.mean_squared_error(targets, outputs.reshape(shape)), rel_tol=1e-9)
    assert math.isclose(mae(outputs, targets), skm.mean_absolute_error(targets, outputs.reshape(shape)), rel_tol=1e-9)


def test_every_built_in_metric_has_an_implementation_of_its_kind():
    assert set(SCORE_METRICS) | set(COST_METRICS) == set(BUILTIN_METRICS)
    assert {n for n, s in BUILTIN_METRICS.items() if s.on_data} == set(SCORE_METRICS)


@pytest.fixture()
def metric_file():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "user_metrics.py")


def _spec(path: str, function: str) -> MetricSpec:
    return MetricSpec(function, path, function, (0.0, 1.0), None)


def test_user_metric_is_called_with_scores_and_labels(metric_file, scored):
    scores, labels = scored
    expected = skm.balanced_accuracy_score(labels, scores.argmax(1))
    assert math.isclose(user_metric(_spec(metric_file, "balanced"), scores, labels), expected, rel_tol=1e-12)
    assert user_metric(_spec(metric_file, "numpy_scalar"), scores, labels) == 0.25


@pytest.mark.parametrize(
    "function, cause",
    [
        ("divides", "divides raised ZeroDivisionError: division by zero"),
        ("nan", "nan returned nan, not a finite number"),
        ("text", "text returned str '0.9', not a number"),
        ("missing", "defines no function 'missing'"),
    ],
)
def test_a_failing_user_metric_is_one_line_naming_the_file(metric_file, scored, function, cause):
    with pytest.raises(MetricError) as error:
        user_metric(_spec(metric_file, function), *scored)
    assert str(error.value) == f"{metric_file}: {cause}"


def test_latency_is_the_median_milliseconds_and_grows_with_the_work(parent_paths):
    import stitchc

    specs = os.path.dirname(parent_paths[0])
    small = stitchc.load(parent_paths[0], "a")  # 23,680 MACs per sample
    large = stitchc.load(os.path.join(specs, "mnist_vgg.onnx"), "v")  # 10,481,152: about 440 times more
    fast, slow = latency(small, batch=1), latency(large, batch=1)
    assert 0 < fast < slow and math.isfinite(slow)
    assert latency(small, batch=64) > fast  # 64 samples per run


def _on(metric: str, data: str = "digits", args=()) -> ObjectiveSpec:
    """An objective measured on DATA.val (the direction does not change the value)."""
    return ObjectiveSpec("maximize", metric, data, "val", args)


def _cost(metric: str, args=()) -> ObjectiveSpec:
    return ObjectiveSpec("minimize", metric, args=args)


def test_measure_every_classification_objective_of_one_model(parent_paths, digits):
    import stitchc

    graph = stitchc.load(parent_paths[0], "a")
    objectives = (
        _on("accuracy"),
        _on("top5"),
        _on("topk", args=(("k", 2),)),
        _on("f1"),
        _on("loss"),
        _cost("macs"),
        _cost("params"),
        _cost("latency", (("batch", 4),)),
    )
    values = measure(graph, objectives, {("digits", "val"): digits.val}, {})
    logits, y = scores(graph.to_onnx(), digits.val)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    expected = [
        skm.accuracy_score(y, logits.argmax(1)),
        skm.top_k_accuracy_score(y, logits, k=5, labels=range(10)),
        skm.top_k_accuracy_score(y, logits, k=2, labels=range(10)),
        skm.f1_score(y, logits.argmax(1), average="macro"),
        skm.log_loss(y, probabilities, labels=range(10)),
        23_680,
        1_898,
    ]
    assert values[:-1] == pytest.approx(expected, rel=1e-6)
    assert 0 < values[-1] < 1000


def test_measure_regression_objectives_of_a_linear_model(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    import stitchc

    rng = np.random.default_rng(0)
    weight = rng.normal(size=(3, 2)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "linear.onnx"))
    model = stitchc.load(str(tmp_path / "linear.onnx"), "r")
    x = rng.normal(size=(100, 3)).astype(np.float32)
    targets = x @ weight + rng.normal(scale=0.1, size=(100, 2))
    split = as_samples(x, targets)
    objectives = (_on("mse", "r"), _on("mae", "r"), _cost("params"))
    values = measure(model, objectives, {("r", "val"): split}, {})
    outputs = x @ weight
    assert values[0] == pytest.approx(skm.mean_squared_error(targets, outputs), rel=1e-5)
    assert values[1] == pytest.approx(skm.mean_absolute_error(targets, outputs), rel=1e-5)
    assert values[2] == 6
