"""Fits that cannot be trusted say so: NaN/Inf is a located error naming the stitch, a stitch worse than the
target's mean is a warning naming it, and the ridge strength does not depend on the features' scale."""

from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import stitchc
from stitchc.cli import main
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.ridge import RidgeStats, fit_from_stats
from stitchc.stitch.supernet import auto_supernet


def _cnn(path, seed: int, channels: int, inputs: int = 1, reads: int | None = None, log: bool = False) -> str:
    """image [N, inputs, 8, 8] → (log(x − 2), NaN on [0, 1] data) → conv 3×3, relu → conv, relu → linear.
    With `reads`, the first conv sees only that input channel."""
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(channels, inputs, 3, 3)).astype(np.float32)
    if reads is not None:
        first[:, np.arange(inputs) != reads] = 0.0
    arrays = {
        "two": np.array(2.0, np.float32),
        "w1": first,
        "b1": rng.normal(size=channels).astype(np.float32),
        "w2": (rng.normal(size=(channels, channels, 3, 3)) * 0.3).astype(np.float32),
        "b2": rng.normal(size=channels).astype(np.float32),
        "w3": (rng.normal(size=(10, channels * 64)) * 0.1).astype(np.float32),
        "b3": np.zeros(10, np.float32),
    }
    nodes = [
        helper.make_node("Sub", ["image", "two"], ["shifted"], name="shift"),
        helper.make_node("Log", ["shifted"], ["logged"], name="log"),
        helper.make_node("Conv", ["logged" if log else "image", "w1", "b1"], ["c1"], name="conv1", pads=[1] * 4),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1] * 4),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes if log else nodes[2:],
        "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", inputs, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(a, k) for k, a in arrays.items() if log or k != "two"],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
model n = onnx("{n}")
stitch an = a <-> n {{ fit = digits.train(samples = 128) }}
search front over an {{
    genome     = switches
    algorithm  = nsga2(population = 8, generations = 1, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
"""


def test_nan_features_are_an_error_naming_the_stitch(tmp_path, capsys):
    spec = tmp_path / "nan.stitch"
    spec.write_text(SPEC.format(a=_cnn(tmp_path / "a.onnx", 0, 4), n=_cnn(tmp_path / "n.onnx", 1, 6, log=True)))
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-3] == (f"{spec}:5:8: error: stitch a.relu1->n.log: the target feature n.log has NaN or Inf values"), (
        lines
    )


def test_a_stitch_worse_than_the_mean_is_flagged(tmp_path, capsys):
    """Parents a and b see input channel 0, parent c only channel 1, and the held-out samples' channel 1 is
    shifted: a → b fits well, but a → c cannot know the shift, so its held-out MSE exceeds c's variance."""
    graphs = {
        name: stitchc.load(_cnn(tmp_path / f"{name}.onnx", seed, 4, inputs=2, reads=reads), name)
        for name, seed, reads in (("a", 0, 0), ("b", 1, 0), ("c", 2, 1))
    }
    x = np.random.default_rng(3).normal(size=(200, 2, 8, 8)).astype(np.float32)
    x[4::5, 1] += 3.0  # every fifth sample is held out
    fit_supernet(auto_supernet({"a": graphs["a"], "b": graphs["b"]}), graphs, x)
    assert capsys.readouterr().err == ""
    supernet = auto_supernet({"a": graphs["a"], "c": graphs["c"]})
    fit_supernet(supernet, graphs, x)
    lines = capsys.readouterr().err.splitlines()
    pattern = r"stitchc: warning: stitch (\S+): held-out feature MSE \S+ is (\S+)× the target feature's variance"
    found = [re.match(pattern + r" \(no better than predicting its mean\)$", line) for line in lines]
    assert all(found) and all(float(m.group(2)) > 1 for m in found), lines
    flagged = [m.group(1) for m in found]
    assert {s.name for s in supernet.stitches if s.plan.target_parent == "c"} <= set(flagged)


def test_ridge_ignores_the_scale_of_each_input_channel():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8))  # few rows: the ridge strength matters
    y = x @ rng.normal(size=(8, 3)) + rng.normal(size=(60, 3))
    scales = 1e9 * np.array([1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1.0, 500.0])  # within the 1e-3 deviation floor
    fits = [
        fit_from_stats(RidgeStats.of(features[:48], y[:48]), RidgeStats.of(features[48:], y[48:]))
        for features in (x, x * scales)
    ]
    np.testing.assert_allclose(x @ fits[0].weight + fits[0].bias, x * scales @ fits[1].weight + fits[1].bias, rtol=1e-8)
    assert np.isclose(fits[0].held_out_mse, fits[1].held_out_mse, rtol=1e-8)
