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
