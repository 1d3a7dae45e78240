"""Graph.to_torch agrees with ONNX Runtime on the original model, for every zoo family and the spec's parents."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import pytest
import torch

import stitchc
from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.ir.torch_import import export_onnx
from stitchc.ir.torch_lower import TorchLoweringError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import zoo  # noqa: E402

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def lowered(graph, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return graph.to_torch()(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("family", sorted(zoo.FAMILIES))
def test_zoo_family_matches_onnx_runtime(family):
    model = zoo.build(family)
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)
    original = export_onnx(model, (torch.from_numpy(x),))
    graph = from_onnx(original, family)
    np.testing.assert_allclose(lowered(graph, x), run(original, x)[0], **TOLERANCE)


def test_spec_parents_match_onnx_runtime(parent_paths, digits):
    for path in parent_paths:
        x = digits.val.x[:64]
        np.testing.assert_allclose(lowered(stitchc.load(path), x), run(onnx.load(path), x)[0], **TOLERANCE)


def test_symbolic_batch_runs_at_any_batch_size():
    graph = stitchc.from_torch(zoo.build("shufflenet_v2"), torch.zeros(2, 3, 32, 32))
    assert graph.inputs[0].type.shape[0] == "N"
    module = graph.to_torch()
    for batch in (1, 5):
        x = np.random.default_rng(batch).normal(size=(batch, 3, 32, 32)).astype(np.float32)
        np.testing.assert_allclose(lowered(graph, x), run(graph, x)[0], **TOLERANCE)
        assert module(torch.from_numpy(x)).shape == (batch, 10)


def test_only_named_constants_are_trainable(parent_paths, digits):
    graph = stitchc.load(parent_paths[0])
    weight = next(v for v in graph.constants.values() if v.type.rank == 4)
    before = weight.const.copy()
    module = graph.to_torch(trainable={weight.name})
    parameters = dict(module.named_parameters())
    assert len(parameters) == 1 and all(p.requires_grad for p in parameters.values())
    assert len(dict(module.named_buffers())) == len(graph.constants) - 1
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    module(torch.from_numpy(digits.val.x[:8])).square().sum().backward()
    optimizer.step()
    assert not torch.equal(parameters[module.stitchc_constants[weight.name]].detach(), torch.from_numpy(before))
    np.testing.assert_array_equal(weight.const, before)  # the IR's array is never written


def test_op_without_lowering_names_op_and_node(parent_paths):
    graph = stitchc.load(parent_paths[0])
    graph.nodes[1].op = "Hardmax"
    with pytest.raises(TorchLoweringError, match=f"op Hardmax \\(node {graph.nodes[1].name}\\)"):
        graph.to_torch()


def test_unknown_trainable_name_is_refused(parent_paths):
    with pytest.raises(TorchLoweringError, match="no constants named nope"):
        stitchc.load(parent_paths[0]).to_torch(trainable={"nope"})


def test_trainable_true_makes_every_float_constant_a_parameter_and_trains(parent_paths, digits):
    graph = stitchc.load(parent_paths[1])
    module = graph.to_torch(trainable=True)
    floats = {module.stitchc_constants[n] for n, v in graph.constants.items() if v.const.dtype.kind == "f"}
    assert len(floats) == 12 and set(dict(module.named_parameters())) == floats
    assert all(not b.is_floating_point() for b in module.buffers())
    x, y = torch.from_numpy(digits.val.x[:32]), torch.from_numpy(digits.val.y[:32])
    before = module(x).detach().clone()
    torch.nn.functional.cross_entropy(module(x), y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
    torch.optim.SGD(module.parameters(), lr=0.1).step()
    assert (module(x).detach() - before).abs().max() > 1e-3  # one step moved the output
    assert not dict(graph.to_torch(trainable=False).named_parameters())


def test_trainable_must_be_a_flag_or_a_set_of_names(parent_paths):
    with pytest.raises(TorchLoweringError, match="trainable takes True, False or a set of constant names"):
        stitchc.load(parent_paths[0]).to_torch(trainable="w")


def test_lowered_module_pickles_and_loads_back(tmp_path):
    graph = stitchc.from_torch(zoo.build("vit"), torch.zeros(2, 3, 32, 32))
    module = graph.to_torch(trainable=True)
    targets = {n.target.__name__ for n in module.graph.nodes if n.op == "call_function"}
    assert "onnx_Erf" in targets  # an op function made by a factory in torch_ops.py
    torch.save(module, tmp_path / "vit.pt")
    loaded = torch.load(tmp_path / "vit.pt", weights_only=False)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(3, 3, 32, 32)).astype(np.float32))
    with torch.no_grad():
        assert torch.equal(loaded(x), module(x))
    assert set(dict(loaded.named_parameters())) == set(dict(module.named_parameters()))


def _exported(graph, batch: int):
    example = torch.zeros((batch, *graph.inputs[0].type.shape[1:]))
    return torch.export.export(graph.to_torch(), (example,), dynamic_shapes=({0: torch.export.Dim("N")},))


class Flat(torch.nn.Module):
    """Flattens with `view(size(0), -1)`: ONNX export computes the target shape from the batch size."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        return self.fc(h.view(h.size(0), -1))


def _check_export(graph, shape) -> None:
    program = _exported(graph, 2)
    for batch in (1, 5):
        x = np.random.default_rng(batch).normal(size=(batch, *shape)).astype(np.float32)
        with torch.no_grad():
            np.testing.assert_allclose(program.module()(torch.from_numpy(x)).numpy(), run(graph, x)[0], **TOLERANCE)


def test_torch_export_keeps_the_batch_dynamic():  # the ViT computes Reshape and Expand targets from shapes
    _check_export(stitchc.from_torch(zoo.build("vit"), torch.zeros(2, 3, 32, 32)), (3, 32, 32))


def test_torch_export_of_a_view_on_the_batch_size():
    graph = stitchc.from_torch(Flat().eval(), torch.zeros(2, 1, 8, 8))
    assert {"Shape", "Gather", "Concat", "Reshape"} <= {n.op for n in graph.nodes}
    _check_export(graph, (1, 8, 8))


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(zoo.FAMILIES))
def test_every_zoo_family_exports_with_a_dynamic_batch(family):
    _check_export(stitchc.from_torch(zoo.build(family), torch.zeros(2, 3, 32, 32)), (3, 32, 32))
