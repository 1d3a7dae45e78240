"""ONNX import corners: initializers listed as inputs, constant folding, opaque ops, subgraphs, opsets, cost."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import stitchc
from stitchc.ir import from_onnx
from stitchc.ir.runtime import run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import zoo  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 6, 6)).astype(np.float32)


def model(nodes, inits, opset=17, inputs=None, outputs=None):
    graph = helper.make_graph(
        nodes,
        "m",
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 6, 6])],
        outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    return proto


def weight(name, shape):
    return numpy_helper.from_array(RNG.normal(size=shape).astype(np.float32), name)


def round_trips(proto, x=X):
    np.testing.assert_allclose(
        run(from_onnx(proto, "m").to_onnx(), {"x": x})[0], run(proto, {"x": x})[0], rtol=1e-4, atol=1e-6
    )


def test_initializers_listed_as_inputs_become_constants():
    proto = model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], [weight("w", (4, 3, 3, 3))])
    proto.graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3]))
    graph = from_onnx(proto, "m")
    assert [v.name for v in graph.inputs] == ["x"] and graph.params() == 4 * 27
    round_trips(proto)


def test_weights_made_by_constant_subgraphs_are_folded():
    nodes = [
        helper.make_node(
            "ConstantOfShape", ["shape"], ["ones"], value=numpy_helper.from_array(np.array([0.5], np.float32))
        ),
        helper.make_node("Mul", ["ones", "w_raw"], ["w_half"]),
        helper.make_node("Reshape", ["w_half", "kernel"], ["w"]),
        helper.make_node("Shape", ["x"], ["x_shape"]),  # symbolic batch: stays
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([108], np.int64), "shape"),
        weight("w_raw", (108,)),
        numpy_helper.from_array(np.array([4, 3, 3, 3], np.int64), "kernel"),
    ]
    proto = model(nodes, inits)
    graph = from_onnx(proto, "m")
    assert [n.op for n in graph.nodes] == ["Shape", "Conv", "Relu"]
    conv = graph.nodes[1]
    assert conv.inputs[1].is_const and conv.inputs[1].type.shape == (4, 3, 3, 3)
    assert graph.params() == 108 and graph.macs() == 4 * 36 * 27
    round_trips(proto)
    static = from_onnx(
        model(
            nodes[3:4] + [helper.make_node("Cast", ["x_shape"], ["y"], to=TensorProto.FLOAT)],
            [],
            inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 6, 6])],
        ),
        "m",
    )
    assert static.nodes == [] and static.outputs[0].const.tolist() == [2.0, 3.0, 6.0, 6.0]


def test_ops_without_special_knowledge_are_typed_and_carried():
    proto = model([helper.make_node("Celu", ["x"], ["c"], alpha=0.7), helper.make_node("Hardmax", ["c"], ["y"])], [])
    graph = from_onnx(proto, "m")
    assert str(graph.nodes[0].outputs[0].type) == "float32[N, 3, 6, 6]"
    round_trips(proto)
    custom = model([helper.make_node("Fancy", ["x"], ["y"], domain="com.example", level=3)], [])
    custom.opset_import.append(helper.make_opsetid("com.example", 1))
    lowered = from_onnx(custom, "m").to_onnx()
    assert lowered.graph.node[0].domain == "com.example" and lowered.graph.node[0].attribute[0].i == 3


def test_if_subgraph_reading_an_outer_constant_round_trips():
    branch = lambda name, op: helper.make_graph(  # noqa: E731
        [helper.make_node(op, ["x", "bias"], [name])],
        name,
        [],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)],
    )
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], keepdims=0),
        helper.make_node("Greater", ["m", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["y"], then_branch=branch("a", "Add"), else_branch=branch("s", "Sub")),
    ]
    inits = [numpy_helper.from_array(np.float32(0.0), "zero"), weight("bias", (6,))]
    proto = model(nodes, inits)
    for sign in (1, -1):
        round_trips(proto, np.abs(X) * sign)


def test_old_opsets_import_and_lower_to_newer_ones():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("ReduceSum", ["c"], ["u"], axes=[2], keepdims=1),
        helper.make_node("Softmax", ["u"], ["y"], axis=1),
    ]
    proto = model(nodes, [weight("w", (4, 3, 3, 3))], opset=7)
    graph = from_onnx(proto, "m")
    newest = onnx.defs.onnx_opset_version()
    for opset in (7, 13, min(newest, 21)):
        lowered = graph.to_onnx(opset=opset)
        assert {o.domain: o.version for o in lowered.opset_import}[""] == opset
        np.testing.assert_allclose(run(lowered, {"x": X})[0], run(proto, {"x": X})[0], rtol=1e-4, atol=1e-6)


def test_resnet18_macs_match_the_published_figure():
    graph = stitchc.from_torch(zoo.ResNet18().eval(), torch.zeros(1, 3, 224, 224))
    assert abs(graph.macs() - 1.82e9) / 1.82e9 < 0.01
    assert abs(graph.params() - 11.69e6) / 11.69e6 < 0.01
