"""Morphisms preserve the function (max |y' − y| ≤ tol · max |y|, on inputs that break symmetry);
mutations change exactly the fraction of weights they promise."""

from __future__ import annotations

import numpy as np

import stitchc
from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.passes.net2deeper import net2deeper
from stitchc.passes.net2wider import net2wider
from stitchc.passes.sparse_gaussian import sparse_gaussian


def _preserved(before, after, tol=1e-5):
    assert np.max(np.abs(after - before)) <= tol * np.max(np.abs(before))


def _convs(graph):
    return [n for n in graph.nodes if n.op == "Conv"]


def test_net2wider_is_exact_into_conv_and_into_flatten_gemm(parent_paths, digits):
    for path in parent_paths:
        graph = stitchc.load(path)
        expected = run(graph, digits.val.x)[0]
        for site in range(len(_convs(graph))):
            wide = graph.copy()
            conv = _convs(wide)[site]
            macs = wide.macs()
            assert net2wider(wide, conv, {"factor": 2}, np.random.default_rng(site))
            assert conv.inputs[1].const.shape[0] == 2 * _convs(graph)[site].inputs[1].const.shape[0]
            assert wide.macs() > macs
            _preserved(expected, run(wide, digits.val.x)[0])


def test_net2wider_doubles_the_channels_and_keeps_weights_of_the_parent(parent_paths):
    graph = stitchc.load(parent_paths[0])
    original = _convs(graph)[0].inputs[1].const
    wide = graph.copy()
    conv = _convs(wide)[0]
    net2wider(wide, conv, {"factor": 3}, np.random.default_rng(0))
    assert conv.inputs[1].const.shape[0] == 3 * original.shape[0]
    assert _convs(graph)[0].inputs[1].const is original  # copy on write: the parent is untouched


def test_net2wider_refuses_residual_outputs(make_residual):
    graph = from_onnx(make_residual(1, 4, 1), "r")
    stem = _convs(graph)[0]  # its ReLU feeds both the block and the skip connection
    assert not net2wider(graph, stem, {"factor": 2}, np.random.default_rng(0))


def test_net2deeper_is_exact_with_an_asymmetric_input(parent_paths):
    graph = stitchc.load(parent_paths[1])
    x = np.zeros((2, 1, 8, 8), np.float32)
    x[:, :, 1, :5] = 1.0  # asymmetric: a shifted identity tap would show
    x[:, :, 6, 2] = 3.0
    expected = run(graph, x)[0]
    for site in range(len(_convs(graph))):
        deep = graph.copy()
        assert net2deeper(deep, _convs(deep)[site], {"kernel": 3}, np.random.default_rng(0))
        assert len(deep.nodes) == len(graph.nodes) + 2
        _preserved(expected, run(deep, x)[0], tol=1e-6)


def test_sparse_gaussian_mutates_rate_of_the_weights(parent_paths):
    graph = stitchc.load(parent_paths[1])
    child = graph.copy()
    assert sparse_gaussian(child, None, {"rate": 0.1, "sigma": 0.5}, np.random.default_rng(0))
    changed = total = 0
    for old, new in zip(graph.nodes, child.nodes):
        if old.op in ("Conv", "Gemm"):
            changed += int(np.sum(old.inputs[1].const != new.inputs[1].const))
            total += old.inputs[1].const.size
    assert 0.08 < changed / total < 0.12


def test_grow_units_and_kernel_grow_are_exact(parent_paths, digits):
    from stitchc.passes.grow_units import grow_units
    from stitchc.passes.kernel_grow import kernel_grow

    for path in parent_paths:
        graph = stitchc.load(path)
        expected = run(graph, digits.val.x)[0]
        for site in range(len(_convs(graph))):
            for transform, params in ((grow_units, {"units": 3}), (kernel_grow, {})):
                child = graph.copy()
                conv = _convs(child)[site]
                assert transform(child, conv, params, np.random.default_rng(site)), transform.__name__
                assert child.macs() > graph.macs()
                _preserved(expected, run(child, digits.val.x)[0], tol=1e-6)


def test_net2deeper_accepts_a_relu_site(parent_paths, digits):
    graph = stitchc.load(parent_paths[0])
    relu = next(n for n in graph.nodes if n.op == "Relu")
    child = graph.copy()
    assert net2deeper(
        child, next(n for n in child.nodes if n.name == relu.name), {"kernel": 3}, np.random.default_rng(0)
    )
    _preserved(run(graph, digits.val.x)[0], run(child, digits.val.x)[0], tol=1e-6)
