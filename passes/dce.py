"""Dead-code elimination.

Rule: remove every node none of whose outputs reaches a graph output, and every constant no node reads.
Guarantee: exact (the graph outputs are computed by the same nodes as before).
"""
from __future__ import annotations

from stitchc.ir import Graph

from .base import PassBase, PassResult, register_pass


@register_pass("dce")
class DeadCodeElimination(PassBase):
    def call(self, graph: Graph) -> PassResult:
        live: set[int] = set()
        for node in reversed(graph.nodes):
            if any(v.uses and any(id(user) in live for user, _ in v.uses) or v in graph.outputs for v in node.outputs):
                live.add(id(node))
        dead = [n for n in graph.nodes if id(n) not in live]
        for node in reversed(dead):
            for value in node.inputs:
                if value is not None:
                    value.uses = [(n, i) for n, i in value.uses if n is not node]
        graph.nodes = [n for n in graph.nodes if id(n) in live]
        unused = [name for name, v in graph.constants.items() if not v.uses and v not in graph.outputs]
        for name in unused:
            del graph.constants[name]
        return PassResult(graph, bool(dead or unused))
