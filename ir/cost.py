"""Cost model from types alone: multiply-accumulates per sample and parameter counts.

MACs count the multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul from shapes: the product of every
dim of the node's output (its input for ConvTranspose) times the contraction size. The batch is the only
per-sample divisor: a dim that is k times the batch symbol ('N', '64*N') counts k; in a graph whose inputs are
all static, the count is divided by the leading dim of the first input. So a sequence-first MatMul
[197, N, 768] x [768, 2304] counts 197 * 2304 * 768 and windowed attention [64*N, 49, 32] counts its 64
windows; the published figures follow this convention (ResNet-18 at 224x224: 1.82 G, ViT-B/16: 17.56 G).
A dim that is neither an int nor a multiple of the batch, an unknown shape, a missing operand or one whose rank
the op cannot take (Gemm needs rank 2, MatMul rank 1 or more) raises CostError naming the node and the cause:
the cost model says it cannot know, never guesses.
"""

from __future__ import annotations

import math

import numpy as np

from .batch import batch_factor, input_batch
from .graph import Graph
from .node import Node
from .types import Dim, TensorType


class CostError(Exception):
    pass


def node_macs(node: Node, batch: Dim = None) -> int:
    """Multiply-accumulates of `node` per sample of a graph whose batch is `batch` (see `input_batch`)."""
    op = node.op if not node.domain else _CONTRIB.get((node.domain, node.op))
    if op not in _MACS:
        return 0
    dims, contraction = _MACS[op](node)
    if not isinstance(contraction, int):
        size = "unknown" if contraction is None else repr(contraction)
        raise CostError(f"node {node.name} ({node.op}): contraction size {size} is not static")
    return _count(node, dims, batch) * contraction


def graph_macs(graph: Graph) -> int:
    batch = input_batch(graph)
    return sum(node_macs(node, batch) for node in graph.nodes)


def graph_params(graph: Graph) -> int:
    """Elements of the floating-point constants read by some node."""
    seen: dict[int, int] = {}
    for node in graph.nodes:
        for value in node.inputs:
            if value is not None and value.is_const and np.issubdtype(value.const.dtype, np.floating):
                seen[id(value)] = value.const.size
    return sum(seen.values())


def _count(node: Node, dims, batch: Dim) -> int:
    """The product of `dims` per sample: batch multiples count their factor; a static batch divides the total."""
    total, batched = 1, 0
    for dim in dims:
        factor = dim if isinstance(dim, int) else batch_factor(dim, batch)
        if factor is None or factor < 0:
            shown = tuple("?" if d is None else d for d in dims)
            raise CostError(
                f"node {node.name} ({node.op}): dim {'?' if dim is None else repr(dim)} of shape {shown} is not static"
            )
        batched += not isinstance(dim, int)
        total *= factor
    if batched > 1:
        raise CostError(f"node {node.name} ({node.op}): shape {tuple(dims)} grows faster than the batch")
    return total // batch if isinstance(batch, int) and batch > 0 else total


def _shape(node: Node, values: list, index: int, rank: int = 0) -> tuple:
    """The shape of `values[index]` (a node's inputs or outputs), of rank at least `rank`."""
    value = values[index] if index < len(values) else None
    if value is None or not isinstance(value.type, TensorType) or value.type.shape is None:
        raise CostError(f"node {node.name} ({node.op}): shape of {getattr(value, 'name', f'operand {index}')} unknown")
    if len(value.type.shape) < rank:
        raise CostError(
            f"node {node.name} ({node.op}): {value.name} has rank {len(value.type.shape)}, {node.op} needs {rank}"
        )
    return value.type.shape


def _conv(node: Node):
    return _shape(node, node.outputs, 0), _product(_shape(node, node.inputs, 1)[1:])


def _conv_transpose(node: Node):
    kernel = _shape(node, node.inputs, 1)  # [C_in, C_out / group, k...]
    return _shape(node, node.inputs, 0), _product(kernel[1:])


def _gemm(node: Node):
    shape_a, shape_b = _shape(node, node.inputs, 0, 2), _shape(node, node.inputs, 1, 2)
    a = shape_a[0] if node.attr("transA", 0) else shape_a[1]
    b = shape_b[1] if node.attr("transB", 0) else shape_b[0]
    return _shape(node, node.outputs, 0), _reduced(a, b)


def _matmul(node: Node):
    """numpy's rule: a 1-D operand contracts its only dim; B contracts its second-to-last (its first when 1-D)."""
    shape_a, shape_b = _shape(node, node.inputs, 0, 1), _shape(node, node.inputs, 1, 1)
    return _shape(node, node.outputs, 0), _reduced(shape_a[-1], shape_b[max(len(shape_b) - 2, 0)])


def _product(dims) -> Dim:
    """The product of static dims; the first symbolic dim otherwise (reported by node_macs)."""
    symbolic = [d for d in dims if not isinstance(d, int)]
    return symbolic[0] if symbolic else math.prod(dims)


def _reduced(*sides) -> Dim:
    """The contraction size, read from whichever operand knows it (`x.view(x.size(0), -1)` leaves the
    activation's side symbolic while the weight's is known); the first side when neither does."""
    return next((dim for dim in sides if isinstance(dim, int)), sides[0])


_CONTRIB = {("com.microsoft", "FusedConv"): "Conv"}  # ONNX Runtime's contrib ops that compute as a standard op
_MACS = {"Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul}


def node_params(node: Node) -> int:
    """Elements of the floating-point constants this node reads (shared constants count at every reader)."""
    return sum(
        v.const.size for v in node.inputs if v is not None and v.is_const and np.issubdtype(v.const.dtype, np.floating)
    )
