"""Dead-code elimination.

Rule: remove every node none of whose outputs reaches a graph output, and every constant no node reads.
Values that a live node's subgraph (If/Loop/Scan body) reads by name count as read.
Guarantee: exact (the graph outputs are computed by the same nodes as before).
"""

from __future__ import annotations

from stitchc.ir import Graph, Value
from stitchc.ir.subgraphs import captured_names, has_subgraphs

from .base import PassBase, PassResult, register_pass


@register_pass("dce")
class DeadCodeElimination(PassBase):
    guarantee = "exact"

    def call(self, graph: Graph) -> PassResult:
        live: set[int] = set()
        captured: set[str] = set()
        for node in reversed(graph.nodes):
            if any(_read(v, live, captured, graph) for v in node.outputs):
                live.add(id(node))
                if has_subgraphs(node):
                    captured |= captured_names(node)
        dead = [n for n in graph.nodes if id(n) not in live]
        graph.remove_nodes(dead)
        unused = [
            v for v in graph.constants.values() if not v.uses and v not in graph.outputs and v.name not in captured
        ]
        for value in unused:
            graph.remove_constant(value)
        return PassResult(graph, bool(dead or unused))


def _read(value: Value, live: set[int], captured: set[str], graph: Graph) -> bool:
    return any(id(user) in live for user, _ in value.uses) or value in graph.outputs or value.name in captured
