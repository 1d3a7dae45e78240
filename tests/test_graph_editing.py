"""The graph-editing API keeps the invariants Graph states: topological order, exact use lists, unique names."""

from __future__ import annotations

import numpy as np
import pytest

from stitchc.ir import Graph, TensorType
from stitchc.ir.runtime import run
from stitchc.passes.verify import verify

F32 = np.dtype("float32")
KIND = TensorType(F32, ("N", 4))


def _chain() -> tuple[Graph, list]:
    """x -> Relu -> Neg -> Abs (the output)."""
    graph = Graph("chain")
    value = graph.add_input("x", KIND)
    nodes = []
    for op in ("Relu", "Neg", "Abs"):
        nodes.append(graph.add_node(op, [value], [KIND]))
        value = nodes[-1].outputs[0]
    graph.outputs = [value]
    return graph, nodes


def test_a_node_inserted_before_the_first_user_keeps_the_order_without_a_sort():
    graph, (relu, neg, _) = _chain()
    first = graph.first_user(relu.outputs[0])
    assert first is neg
    double = graph.add_node("Add", [relu.outputs[0], relu.outputs[0]], [KIND], before=first)
    graph.set_input(neg, 0, double.outputs[0])
    assert [n.op for n in graph.nodes] == ["Relu", "Add", "Neg", "Abs"]
    verify(graph, after="insert")
    x = np.array([[-1.0, 2.0, 3.0, -4.0]], np.float32)
    np.testing.assert_array_equal(run(graph, x)[0], [[0.0, 4.0, 6.0, 0.0]])


def test_first_user_of_an_unread_value_is_none():
    graph, (_, _, abs_node) = _chain()
    assert graph.first_user(abs_node.outputs[0]) is None


def test_nodes_used_only_by_each_other_are_removed_together_and_use_lists_follow():
    graph, (relu, neg, abs_node) = _chain()
    graph.outputs = [relu.outputs[0]]
    graph.remove_nodes([abs_node, neg])
    assert graph.nodes == [relu] and relu.outputs[0].uses == []
    verify(graph, after="remove")


def test_a_node_still_read_outside_the_removed_set_is_refused():
    graph, (relu, neg, _) = _chain()
    with pytest.raises(
        ValueError, match=f"cannot remove node {relu.name}: output %{relu.outputs[0].name} is still used"
    ):
        graph.remove_nodes([relu])
    assert len(graph.nodes) == 3 and relu.outputs[0].uses == [(neg, 0)]


def test_a_constant_is_removed_only_when_unread():
    graph, (relu, _, _) = _chain()
    scale = graph.add_constant("scale", np.ones(4, np.float32))
    product = graph.add_node("Mul", [relu.outputs[0], scale], [KIND], before=graph.first_user(relu.outputs[0]))
    with pytest.raises(ValueError, match="cannot remove constant %scale: it is still used"):
        graph.remove_constant(scale)
    graph.remove_node(product)
    graph.remove_constant(scale)
    assert "scale" not in graph.constants
