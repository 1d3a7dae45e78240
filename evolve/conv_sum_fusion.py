"""The form in which candidates are scored: every Add that ONNX Runtime could fuse into a Conv feeding it is
fused beforehand, in the candidate's own graph, so no such choice is left to ONNX Runtime.

Why: ONNX Runtime fuses `Add(Conv(x), z)` into the Conv, which then accumulates onto z (its NCHWc transformer
and ConvAddActivationFusion); that rounds differently from Conv then Add. Which Conv absorbs an Add depends on
the rest of the model: node order, how many nodes read each Conv. So a candidate merged with others into a
population model (stitchc.evolve.population_graph), or fed a cached activation, rounded differently from the
same candidate alone: on torchvision resnet18 x mobilenet_v2, 13 of 20 candidates differed by ~2e-7, and with
random weights that flipped predictions. Fused here, per candidate, the choice is the candidate's alone.

Rule: an Add of two float32 tensors of the Add's own shape, whose input k (the first that qualifies) is the only
use of a default-domain 2-D Conv's output (not a graph output), becomes com.microsoft FusedConv(X, W, B, Z = the
other input) with the Conv's attributes. Guarantee: the same function (FusedConv computes Conv + Z), scored the
same alone and merged. Not for export: FusedConv is ONNX Runtime's own op.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.node import Node

CONTRIB = "com.microsoft"


def scored_form(graph: Graph) -> Graph:
    """A copy of `graph` with its Conv + Add pairs fused (and the contrib domain imported, fused or not, so
    every scored candidate has the same opsets)."""
    form = graph.copy()
    form.opset_imports = {**form.opset_imports, CONTRIB: 1}
    outputs = {id(v) for v in form.outputs}
    for add in [n for n in form.nodes if n.op == "Add" and not n.domain]:
        position = next((k for k in (0, 1) if _fusable(add, k, outputs)), None)
        if position is not None:
            _fuse(form, add, position)
    return form


def _fusable(add: Node, position: int, outputs: set[int]) -> bool:
    summand, other = add.inputs[position], add.inputs[1 - position]
    conv = summand.producer if summand is not None else None
    if conv is None or conv.op != "Conv" or conv.domain or other is None:
        return False
    if len(getattr(conv.inputs[1].type, "shape", None) or ()) != 4:  # 2-D convolutions: what NCHWc rewrites
        return False
    shape = getattr(add.outputs[0].type, "shape", None)
    same = shape is not None and getattr(other.type, "shape", None) == shape == getattr(summand.type, "shape", None)
    single = np.dtype(getattr(add.outputs[0].type, "dtype", None) or np.float64) == np.float32  # FusedConv's type
    return same and single and len(summand.uses) == 1 and id(summand) not in outputs


def _fuse(graph: Graph, add: Node, position: int) -> None:
    conv = add.inputs[position].producer
    x, w, b = (conv.inputs + [None, None])[:3]
    fused = graph.add_node(
        "FusedConv",
        [x, w, b, add.inputs[1 - position]],
        [add.outputs[0].type],
        name=conv.name,
        domain=CONTRIB,
        attributes=dict(conv.attributes),
        output_names=[add.outputs[0].name],
        before=add,
    )
    graph.replace_all_uses(add.outputs[0], fused.outputs[0])
    graph.remove_nodes([add, conv])
