"""Inference Dropout removal.

Rule: a Dropout in inference mode (no training_mode input, or a constant false one) whose mask output is
unused is removed and its output reads its input. Dropouts producing graph outputs are kept.
Guarantee: exact (inference Dropout is the identity).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .base import PassBase, PassResult, register_pass


@register_pass("remove_dropout")
class RemoveDropout(PassBase):
    guarantee = "exact"

    def call(self, graph: Graph) -> PassResult:
        removed = 0
        for node in list(graph.nodes):
            if node.op == "Dropout" and node.domain == "" and _inference(node, graph):
                graph.replace_all_uses(node.outputs[0], node.inputs[0])
                graph.remove_node(node)
                removed += 1
        return PassResult(graph, removed > 0)


def _inference(node: Node, graph: Graph) -> bool:
    training = node.inputs[2] if len(node.inputs) > 2 else None
    if training is not None and not (training.is_const and not np.any(training.const)):
        return False
    if node.attr("is_test", 1) == 0 and graph.opset_imports.get("", 17) < 7:
        return False
    mask_used = len(node.outputs) > 1 and (node.outputs[1].uses or node.outputs[1] in graph.outputs)
    return not mask_used and node.outputs[0] not in graph.outputs
