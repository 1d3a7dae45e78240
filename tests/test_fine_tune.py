"""Fine-tuning through the torch lowering: deterministic, leaves the graph alone, trains only what it is told,
and the trained graph's ONNX lowering computes what the trained torch module did."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import stitchc
from stitchc.ir.fine_tune import FineTuneError, Recipe, fine_tune
from stitchc.ir.runtime import run
from stitchc.ir.samples import as_samples


def _accuracy(graph, x, y):
    return float(np.mean(np.argmax(run(graph, x)[0], axis=1) == y))


@pytest.fixture()
def widened(parent_paths):
    """A digits parent widened by net2wider: exact, so training is what changes it."""
    from stitchc.passes.net2wider import net2wider

    graph = stitchc.load(parent_paths[0])
    net2wider(graph, next(n for n in graph.nodes if n.op == "Conv"), {"factor": 2}, np.random.default_rng(0))
    return graph


def test_training_is_deterministic_and_leaves_the_graph_alone(widened, digits):
    names = {n for n, v in widened.constants.items() if v.const.dtype.kind == "f"}
    before = {n: v.const.copy() for n, v in widened.constants.items()}
    recipe = Recipe(steps=20, lr=1e-3, batch=32, seed=3)
    first = fine_tune(widened, digits.train, names, recipe)
    second = fine_tune(widened, digits.train, names, recipe)
    for name in names:
        assert np.array_equal(first.graph.constants[name].const, second.graph.constants[name].const)
        assert np.array_equal(widened.constants[name].const, before[name])
    assert any(not np.array_equal(first.graph.constants[n].const, before[n]) for n in names)
    assert torch.get_num_threads() > 0 and not torch.are_deterministic_algorithms_enabled()  # restored


def test_only_the_named_constants_change_and_training_lowers_the_loss(widened, digits):
    head = next(n for n in widened.nodes if n.op == "Gemm")
    names = {head.inputs[1].name, head.inputs[2].name}
    short = fine_tune(widened, digits.train, names, Recipe(steps=5, lr=1e-3, seed=0))
    long = fine_tune(widened, digits.train, names, Recipe(steps=300, lr=1e-3, seed=0))
    assert long.loss < short.loss
    for name, value in widened.constants.items():
        changed = not np.array_equal(long.graph.constants[name].const, value.const)
        assert changed == (name in names)


def test_the_trained_graph_lowers_to_onnx_computing_what_torch_trained(widened, digits):
    names = {n for n, v in widened.constants.items() if v.const.dtype.kind == "f"}
    tuned = fine_tune(widened, digits.train, names, Recipe(steps=100, lr=1e-3, seed=1)).graph
    x = digits.val.x[:64]
    with torch.no_grad():
        expected = tuned.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run(tuned, x)[0], expected, rtol=1e-4, atol=1e-4)
    assert _accuracy(tuned, digits.val.x, digits.val.y) >= _accuracy(widened, digits.val.x, digits.val.y) - 0.02


def _linear_model(inputs: int, outputs: int):
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.zeros((inputs, outputs), np.float32), "w")
    bias = numpy_helper.from_array(np.zeros(outputs, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="linear")],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])],
        [weight, bias],
    )
    return stitchc.ir.from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "linear")


def test_floating_point_labels_train_the_squared_error_to_a_linear_target():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32) + 0.25).astype(np.float32)
    graph = _linear_model(4, 1)
    tuned = fine_tune(graph, as_samples(x, y), {"w", "b"}, Recipe(steps=400, lr=0.05, batch=64))
    assert tuned.loss < 1e-3
    np.testing.assert_allclose(tuned.graph.constants["w"].const[:, 0], [1.0, -2.0, 0.5, 3.0], atol=0.03)
    with pytest.raises(FineTuneError, match=r"output \(64, 2\) does not match regression targets \(64,\)"):
        fine_tune(_linear_model(4, 2), as_samples(x, y), {"w"}, Recipe(steps=1, lr=0.05, batch=64))


def test_no_samples_and_divergence_are_errors_naming_the_graph(widened, digits):
    names = {n for n, v in widened.constants.items() if v.const.dtype.kind == "f"}
    with pytest.raises(FineTuneError, match=r"no samples to train on"):
        fine_tune(widened, digits.train.take(0), names, Recipe(steps=1, lr=1e-3))
    with pytest.raises(FineTuneError, match=r"training diverged \(loss nan\); lower the learning rate"):
        fine_tune(widened, digits.train, names, Recipe(steps=30, lr=1e30))


def test_own_adamw_follows_torch_optim_adamw_with_a_cosine_schedule():
    from stitchc.ir.fine_tune import AdamW

    torch.manual_seed(0)
    ours, theirs = torch.randn(5, 3, requires_grad=True), None
    theirs = ours.detach().clone().requires_grad_(True)
    target = torch.randn(5, 3)
    reference = torch.optim.AdamW([theirs], lr=0.1, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(reference, 10)
    own = AdamW([ours], weight_decay=0.01)
    for step in range(10):
        for tensor in (ours, theirs):
            tensor.grad = None
            ((tensor - target) ** 3).sum().backward()
        own.step(0.1 * (1 + np.cos(np.pi * step / 10)) / 2)
        reference.step()
        schedule.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
