"""Constant folding as a pass.

Rule: the IR's one constant folder (`stitchc.ir.fold`): `Shape` of a static shape becomes a constant, and every
deterministic standard-domain node computed only from constants is evaluated with ONNX Runtime, its read
outputs becoming constants under their own names.
Guarantee: exact (ONNX Runtime computes the values it would have computed at inference).
"""

from __future__ import annotations

from stitchc.ir import Graph
from stitchc.ir.fold import fold_constants

from .base import PassBase, PassResult, register_pass


@register_pass("fold_constants")
class FoldConstants(PassBase):
    guarantee = "exact"

    def call(self, graph: Graph) -> PassResult:
        return PassResult(graph, fold_constants(graph) > 0)
