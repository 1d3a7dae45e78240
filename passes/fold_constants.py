"""Constant folding.

Rule: a deterministic standard-domain node whose inputs are all constants is evaluated once (ONNX reference
evaluator) and its outputs become constants; nodes producing graph outputs and random ops are kept.
Guarantee: exact (the op is evaluated on the same constant inputs it would see at run time).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from stitchc.ir import Graph, Node

from .base import PassBase, PassResult, register_pass

RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
MAX_ELEMENTS = 1 << 22


@register_pass("fold_constants")
class FoldConstants(PassBase):
    guarantee = "exact"

    def call(self, graph: Graph) -> PassResult:
        folded = 0
        for node in list(graph.nodes):
            if _foldable(node, graph):
                arrays = _evaluate(node)
                if arrays is None:
                    continue
                for value, array in zip(node.outputs, arrays):
                    graph.replace_all_uses(value, graph.add_constant(value.name + "_folded", array))
                graph.remove_node(node)
                folded += 1
        return PassResult(graph, folded > 0)


def _foldable(node: Node, graph: Graph) -> bool:
    inputs = [v for v in node.inputs if v is not None]
    return (
        node.domain == ""
        and node.op not in RANDOM
        and bool(inputs)
        and all(v.is_const for v in inputs)
        and not any(v in graph.outputs for v in node.outputs)
    )


def _evaluate(node: Node) -> list[np.ndarray] | None:
    names = [f"in{i}" if v is not None else "" for i, v in enumerate(node.inputs)]
    proto = onnx.helper.make_node(node.op, names, [f"out{i}" for i in range(len(node.outputs))])
    proto.attribute.extend(a.to_onnx(k) for k, a in node.attributes.items())
    feeds = {name: v.const for name, v in zip(names, node.inputs) if v is not None}
    try:
        arrays = ReferenceEvaluator(proto).run(None, feeds)
    except Exception:  # an op the reference evaluator cannot run stays in the graph
        return None
    arrays = [np.asarray(a) for a in arrays]
    return arrays if all(a.size <= MAX_ELEMENTS for a in arrays) else None
