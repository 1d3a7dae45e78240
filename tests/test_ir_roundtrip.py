"""ONNX → IR → ONNX leaves every output unchanged; graph copies share weights."""

from __future__ import annotations

import numpy as np
import onnx

import stitchc
from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.passes.dce import DeadCodeElimination


def test_parents_round_trip_exactly(parent_paths, digits):
    for path in parent_paths:
        original = run(onnx.load(path), digits.val.x)[0]
        lowered = stitchc.load(path).to_onnx()
        onnx.checker.check_model(lowered, full_check=True)
        np.testing.assert_array_equal(run(lowered, digits.val.x)[0], original)


def test_residual_and_branching_round_trip(make_residual, make_branching):
    x = np.random.default_rng(0).normal(size=(16, 1, 8, 8)).astype(np.float32)
    for model in (make_residual(1, 6, 2), make_branching(2, 4)):
        graph = from_onnx(model, "m")
        np.testing.assert_array_equal(run(graph, x)[0], run(model, x)[0])


def test_symbolic_batch_survives(parent_paths):
    graph = stitchc.load(parent_paths[0])
    assert graph.inputs[0].type.shape == ("N", 1, 8, 8)
    dim = graph.to_onnx().graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "N"


def test_copy_shares_weight_arrays(parent_paths):
    graph = stitchc.load(parent_paths[1])
    twin = graph.copy()
    for name, value in graph.constants.items():
        assert twin.constants[name].const is value.const
        assert twin.constants[name] is not value
    twin.nodes[0].name = "renamed"
    assert graph.nodes[0].name != "renamed"


def test_provenance_holds_module_paths(parent_paths):
    graph = stitchc.load(parent_paths[1], "b")
    paths = [n.provenance.path for n in graph.nodes]
    assert paths[:4] == ["conv1", "relu1", "conv2", "relu2"]
    assert {n.provenance.parent for n in graph.nodes} == {"b"}


def test_dce_removes_only_dead_nodes(parent_paths, digits):
    graph = stitchc.load(parent_paths[0])
    before = run(graph, digits.val.x)[0]
    dead_input = graph.nodes[2].outputs[0]
    graph.add_node("Relu", [dead_input], [dead_input.type], name="dead")
    assert DeadCodeElimination()(graph).modified
    assert "dead" not in [n.name for n in graph.nodes]
    assert not DeadCodeElimination()(graph).modified
    np.testing.assert_array_equal(run(graph, digits.val.x)[0], before)


def test_cost_model_counts_conv_and_gemm(parent_paths):
    small = stitchc.load(parent_paths[0])
    # conv1 1→8 3×3 at 8×8, conv2 8→16 3×3 at 4×4, fc 64→10
    assert small.macs() == 64 * 8 * 9 + 16 * 16 * 8 * 9 + 64 * 10
    assert small.params() == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (64 * 10 + 10)
