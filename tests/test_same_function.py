"""Pairs that are the same function of the shared input (identical preprocessing) are never matched."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import stitchc
from stitchc.stitch.matching import match
from stitchc.stitch.plan import auto_plans
from stitchc.stitch.points import stitch_points
from stitchc.stitch.signature import signatures


def _parent(seed: int, channels: int) -> onnx.ModelProto:
    """image [N, 1, 8, 8] → Resize ×2 (the same in every parent) → conv, relu, pool → conv, relu → linear."""
    rng = np.random.default_rng(seed)

    def weight(name, *shape):
        return numpy_helper.from_array((rng.normal(size=shape) * 0.3).astype(np.float32), name)

    nodes = [
        helper.make_node("Resize", ["image", "", "scales"], ["resized"], name="resize", mode="nearest"),
        helper.make_node("Conv", ["resized", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["logits"], name="fc", transB=1),
    ]
    initializers = [
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        weight("w1", channels, 1, 3, 3),
        weight("b1", channels),
        weight("w2", channels, channels, 3, 3),
        weight("b2", channels),
        weight("w3", 10, channels * 64),
        weight("b3", 10),
    ]
    graph = helper.make_graph(
        nodes,
        "parent",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _parents():
    return {
        "a": stitchc.ir.from_onnx(_parent(0, 4), "a"),
        "b": stitchc.ir.from_onnx(_parent(1, 6), "b"),
    }


def test_signatures_equal_only_for_the_same_computation():
    graphs = _parents()
    again = stitchc.ir.from_onnx(_parent(1, 6), "again")
    by_name = [{v.name: d for v, d in _named(g).items()} for g in (graphs["a"], graphs["b"], again)]
    assert by_name[0]["resized"] == by_name[1]["resized"]  # same op, attributes, scales and input
    assert by_name[0]["r1"] != by_name[1]["r1"]  # different conv weights
    assert by_name[1] == by_name[2]  # the same parent imported twice: every value agrees


def test_identical_preprocessing_is_not_matched():
    graphs = _parents()
    points_a, points_b = stitch_points(graphs["a"]), stitch_points(graphs["b"])
    labels = lambda pairs: [(a.value.name, b.value.name) for a, b in pairs]  # noqa: E731
    assert ("resized", "resized") in labels(match(points_a, points_b))  # shapes alone would pair them
    kept = labels(match(points_a, points_b, (graphs["a"], graphs["b"])))
    assert ("resized", "resized") not in kept and ("p1", "p1") in kept
    forward = [p.name for p in auto_plans("a", "b", graphs)][::2]
    assert forward == ["a.relu1->b.relu1", "a.pool1->b.pool1", "a.relu2->b.relu2"]


def _named(graph) -> dict:
    digests = signatures(graph)
    return {v: digests[id(v)] for n in graph.nodes for v in n.outputs}
