"""Property tests of the skip, R2R and shrink morphisms on random CNNs: random layer sizes, strides, kernels and
asymmetric inputs (H ≠ W, random values), outputs through ONNX Runtime. The exact ones must keep
max |y' − y| ≤ 1e-5 · max |y| at every site they accept."""

from __future__ import annotations

import numpy as np
import onnx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.passes.grow_units import grow_units
from stitchc.passes.r2r_deeper import r2r_deeper
from stitchc.passes.shrink import shrink
from stitchc.passes.skip_add import skip_add
from stitchc.passes.skip_concat import skip_concat

EXACT = {"skip_add": skip_add, "skip_concat": skip_concat, "r2r_deeper": r2r_deeper}
TOLERANCE = 1e-5


def random_cnn(seed: int, channels: list[int], strides: list[int], kernels: list[int], height: int, width: int):
    """Conv → Relu layers (their channels, strides and kernels as given, "same"-style padding k//2), then
    Flatten → Gemm to 5 outputs; input [N, channels[0], height, width]."""
    rng = np.random.default_rng(seed)
    nodes, inits, x, h, w = [], [], "image", height, width

    def const(name, shape):
        inits.append(numpy_helper.from_array(rng.normal(0, 0.5, shape).astype(np.float32), name))
        return name

    for i, (c_in, c_out, stride, k) in enumerate(zip(channels, channels[1:], strides, kernels)):
        inputs = [x, const(f"w{i}", (c_out, c_in, k, k)), const(f"b{i}", (c_out,))]
        nodes.append(
            helper.make_node("Conv", inputs, [f"c{i}"], name=f"conv{i}", pads=[k // 2] * 4, strides=[stride] * 2)
        )
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
        x, h, w = f"r{i}", (h + 2 * (k // 2) - k) // stride + 1, (w + 2 * (k // 2) - k) // stride + 1
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten"))
    gemm = ["flat", const("head_w", (5, channels[-1] * h * w)), const("head_b", (5,))]
    nodes.append(helper.make_node("Gemm", gemm, ["logits"], name="head", transB=1))
    graph = helper.make_graph(
        nodes,
        "random_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", channels[0], height, width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return from_onnx(onnx.shape_inference.infer_shapes(model), "random_cnn")


CNNS = st.builds(
    lambda seed, layers, height, width: (seed, layers, height, width),
    st.integers(0, 2**16),
    st.lists(st.tuples(st.integers(1, 6), st.sampled_from([1, 2]), st.sampled_from([1, 3, 5])), min_size=1, max_size=3),
    st.integers(5, 11),
    st.integers(5, 11),
)


def build(case):
    seed, layers, height, width = case
    channels = [int(np.random.default_rng(seed).integers(1, 4))] + [c for c, _, _ in layers]
    graph = random_cnn(seed, channels, [s for _, s, _ in layers], [k for _, _, k in layers], height, width)
    x = np.random.default_rng(seed + 1).normal(0, 1, (3, channels[0], height, width)).astype(np.float32)
    return graph, x


def preserved(before: np.ndarray, after: np.ndarray) -> float:
    return float(np.max(np.abs(after - before)) / np.max(np.abs(before)))


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CNNS, st.sampled_from(sorted(EXACT)), st.integers(0, 2))
def test_exact_skip_morphisms_preserve_the_function(case, name, site_index):
    graph, x = build(case)
    expected = run(graph, x)[0]
    convs = [n for n in graph.nodes if n.op == "Conv"]
    site = convs[site_index % len(convs)]
    nodes_before = len(graph.nodes)
    applied = EXACT[name](graph, site, {"hidden": 0, "kernel": 3}, np.random.default_rng(0))
    if name == "skip_concat" and site.inputs[0].type.shape[2:] != site.outputs[0].type.shape[2:]:
        assert not applied  # a strided block cannot be concatenated with its input
        return
    assert applied
    assert len(graph.nodes) > nodes_before
    assert preserved(expected, run(graph, x)[0]) <= TOLERANCE


def test_r2r_block_is_not_a_dead_zero_block():
    """Every new weight of an R2R block gets a gradient at once: its output is zero by cancellation, not because
    a layer is zero."""
    graph, _ = build((3, [(4, 1, 3), (5, 1, 3)], 7, 9))
    site = next(n for n in graph.nodes if n.op == "Conv")
    assert r2r_deeper(graph, site, {"hidden": 0, "kernel": 3}, np.random.default_rng(0))
    expand = next(n for n in graph.nodes if n.name.endswith("r2r.expand"))
    project = next(n for n in graph.nodes if n.name.endswith("r2r.project"))
    assert np.all(expand.inputs[1].const != 0) and np.all(project.inputs[1].const != 0)


def test_skip_add_handles_a_strided_block_with_a_strided_projection():
    graph, x = build((5, [(3, 2, 3)], 9, 6))
    expected = run(graph, x)[0]
    site = next(n for n in graph.nodes if n.op == "Conv")
    assert skip_add(graph, site, {}, np.random.default_rng(0))
    projection = next(n for n in graph.nodes if n.name.endswith("skip.projection"))
    assert projection.attr("strides") == [2, 2]
    assert preserved(expected, run(graph, x)[0]) == 0.0  # adds an exact zero


def test_shrink_drops_the_units_with_the_smallest_fan_out_and_undoes_grow_units():
    graph, x = build((11, [(4, 1, 3), (6, 1, 3)], 8, 7))
    expected = run(graph, x)[0]
    site = next(n for n in graph.nodes if n.op == "Conv")
    assert grow_units(graph, site, {"units": 3}, np.random.default_rng(0))
    assert site.inputs[1].const.shape[0] == 7
    assert shrink(graph, site, {"units": 3}, np.random.default_rng(0))
    assert site.inputs[1].const.shape[0] == 4
    assert preserved(expected, run(graph, x)[0]) == 0.0  # the grown units had zero fan-out


def test_shrink_is_approximate_and_refuses_to_remove_every_unit():
    graph, x = build((13, [(5, 1, 3), (4, 1, 3)], 8, 8))
    expected = run(graph, x)[0]
    site = next(n for n in graph.nodes if n.op == "Conv")
    assert not shrink(graph, site, {"units": 5}, np.random.default_rng(0))
    assert shrink(graph, site, {"units": 1}, np.random.default_rng(0))
    assert site.inputs[1].const.shape[0] == 4
    assert 0.0 < preserved(expected, run(graph, x)[0])  # a real unit was dropped: the function changed
