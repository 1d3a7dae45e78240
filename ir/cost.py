"""Cost model from types alone: multiply-accumulates per sample and parameter counts.

MACs count the multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul for one sample (the leading
batch dim excluded), the convention behind the published figures (ResNet-18 at 224x224: 1.82 G).
"""

from __future__ import annotations

import math

import numpy as np

from .graph import Graph
from .node import Node


class CostError(Exception):
    pass


def node_macs(node: Node) -> int:
    if node.domain or node.op not in _MACS:
        return 0
    return _MACS[node.op](node)


def graph_macs(graph: Graph) -> int:
    return sum(node_macs(node) for node in graph.nodes)


def graph_params(graph: Graph) -> int:
    """Elements of the floating-point constants read by some node."""
    seen: dict[int, int] = {}
    for node in graph.nodes:
        for value in node.inputs:
            if value is not None and value.is_const and np.issubdtype(value.const.dtype, np.floating):
                seen[id(value)] = value.const.size
    return sum(seen.values())


def _per_sample(node: Node, shape) -> int:
    if shape is None or not all(isinstance(d, int) for d in shape[1:]):
        raise CostError(f"node {node.name} ({node.op}): output shape {shape} is not static")
    return math.prod(shape[1:])


def _conv(node: Node) -> int:
    kernel = node.inputs[1].type.shape
    return _per_sample(node, node.outputs[0].type.shape) * math.prod(kernel[1:])


def _conv_transpose(node: Node) -> int:
    kernel = node.inputs[1].type.shape  # [C_in, C_out / group, k...]
    return _per_sample(node, node.inputs[0].type.shape) * math.prod(kernel[1:])


def _gemm(node: Node) -> int:
    shape_a, shape_b = node.inputs[0].type.shape, node.inputs[1].type.shape
    a = shape_a[0] if node.attr("transA", 0) else shape_a[1]
    b = shape_b[1] if node.attr("transB", 0) else shape_b[0]
    return _per_sample(node, node.outputs[0].type.shape) * _reduced(node, a, b)


def _matmul(node: Node) -> int:
    shape_b = node.inputs[1].type.shape
    k = _reduced(node, node.inputs[0].type.shape[-1], shape_b[-2] if len(shape_b) > 1 else shape_b[0])
    return _per_sample(node, node.outputs[0].type.shape) * k


def _reduced(node: Node, *sides) -> int:
    """The reduced dimension, read from whichever operand knows it (`x.view(x.size(0), -1)` leaves the
    activation's side symbolic; the weight's side is known)."""
    for dim in sides:
        if isinstance(dim, int):
            return dim
    raise CostError(f"node {node.name} ({node.op}): the reduced dimension is not static")


_MACS = {"Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul}


def node_params(node: Node) -> int:
    """Elements of the floating-point constants this node reads (shared constants count at every reader)."""
    return sum(
        v.const.size for v in node.inputs if v is not None and v.is_const and np.issubdtype(v.const.dtype, np.floating)
    )
