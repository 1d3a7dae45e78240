"""Identity removal.

Rule: `%y = Identity(%x)` is removed and every use of %y reads %x; an Identity producing a graph output
is kept (the output keeps its name). Guarantee: exact.
"""

from __future__ import annotations

from stitchc.ir import Graph

from .base import PassBase, PassResult, register_pass


@register_pass("remove_identity")
class RemoveIdentity(PassBase):
    guarantee = "exact"

    def call(self, graph: Graph) -> PassResult:
        removed = 0
        for node in list(graph.nodes):
            if node.op == "Identity" and node.domain == "" and node.outputs[0] not in graph.outputs:
                graph.replace_all_uses(node.outputs[0], node.inputs[0])
                graph.remove_node(node)
                removed += 1
        return PassResult(graph, removed > 0)
