"""Built-in Python passes preserve outputs; the registry, the decorator and the pass manager."""

from __future__ import annotations

import numpy as np
import pytest

import stitchc
from stitchc.ir import Graph, TensorType
from stitchc.ir.runtime import run
from stitchc.passes.base import PassManager, PassResult, get_pass
from stitchc.passes.verify import VerificationError

F32 = np.dtype("float32")


def _graph() -> Graph:
    """x -> Identity -> Dropout -> Add(const folded from Mul(c, c)) -> Relu."""
    graph = Graph("g")
    kind = TensorType(F32, ("N", 4))
    x = graph.add_input("x", kind)
    c = graph.add_constant("c", np.arange(4, dtype=np.float32))
    product = graph.add_node("Mul", [c, c], [TensorType(F32, (4,))]).outputs[0]
    y = graph.add_node("Identity", [x], [kind]).outputs[0]
    y = graph.add_node("Dropout", [y], [kind]).outputs[0]
    y = graph.add_node("Add", [y, product], [kind]).outputs[0]
    graph.outputs = graph.add_node("Relu", [y], [kind]).outputs
    return graph


@pytest.mark.parametrize(
    "name,removed_op", [("fold_constants", "Mul"), ("remove_identity", "Identity"), ("remove_dropout", "Dropout")]
)
def test_pass_removes_its_op_and_preserves_outputs(name, removed_op):
    graph = _graph()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    expected = run(graph, x)[0]
    result = PassManager([get_pass(name), get_pass("dce")], debug=True)(graph.copy())
    assert result.modified and removed_op not in [n.op for n in result.graph.nodes]
    np.testing.assert_array_equal(run(result.graph, x)[0], expected)


def test_training_dropout_is_kept():
    graph = Graph("g")
    kind = TensorType(F32, ("N", 4))
    x = graph.add_input("x", kind)
    training = graph.add_input("training", TensorType(np.dtype("bool"), ()))
    y = graph.add_node("Dropout", [x, None, training], [kind]).outputs[0]
    graph.outputs = graph.add_node("Relu", [y], [kind]).outputs
    assert not get_pass("remove_dropout")(graph).modified


def test_decorator_registers_functions_and_classes():
    @stitchc.register_pass("test_negate_nothing")
    def untouched(graph):
        return False

    @stitchc.register_pass
    class TestCountingPass(stitchc.passes.base.PassBase):
        def call(self, graph):
            return PassResult(graph, False)

    assert isinstance(get_pass("test_negate_nothing")(Graph()), PassResult)
    assert get_pass("TestCountingPass").name == "TestCountingPass"


def test_fixpoint_stops_at_the_cap():
    calls = []

    class AlwaysChanges(stitchc.passes.base.PassBase):
        def call(self, graph):
            calls.append(1)
            return PassResult(graph, True)

    assert PassManager([AlwaysChanges()], fixpoint=True, max_rounds=3)(Graph()).modified
    assert len(calls) == 3


def test_debug_mode_names_the_pass_that_broke_the_graph():
    class Breaks(stitchc.passes.base.PassBase):
        name = "breaks"

        def call(self, graph):
            graph.nodes[0].inputs[0].uses.clear()
            return PassResult(graph, True)

    with pytest.raises(VerificationError, match="after pass breaks: %c does not list its use by node mul"):
        PassManager([Breaks()], debug=True)(_graph())


def test_dce_keeps_values_only_a_subgraph_reads():
    from onnx import TensorProto, helper

    from stitchc.ir import from_onnx
    from stitchc.ir.runtime import run
    from stitchc.passes.dce import DeadCodeElimination

    def branch(name, op):
        out = f"{name}_out"
        return helper.make_graph(
            [helper.make_node(op, ["captured"], [out])],
            name,
            [],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2])],
        )

    nodes = [
        helper.make_node("Relu", ["x"], ["captured"]),  # read only inside the branches
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node(
            "If", ["positive"], ["y"], then_branch=branch("then", "Neg"), else_branch=branch("else", "Abs")
        ),
    ]
    graph_proto = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])],
    )
    model = helper.make_model(graph_proto, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    graph = from_onnx(model, "m", fold=False)
    x = np.array([1.0, -3.0], np.float32)
    expected = run(model, {"x": x})[0]
    DeadCodeElimination()(graph)
    assert [n.op for n in graph.nodes][0] == "Relu"
    np.testing.assert_array_equal(run(graph, {"x": x})[0], expected)
