"""Shape arithmetic in Python for the torch lowering: sizes stay Python ints, never tensors.

A model exported to ONNX computes sizes with tensor ops (`x.view(x.size(0), -1)` becomes Shape → Gather →
Unsqueeze → Concat → Reshape). torch.export cannot read a tensor's values while tracing, so a size that went
through a tensor either fixes the batch size or fails. Here the values such chains compute — integer or
boolean, rank 0 or 1, made only from `Shape`/`Size` and small constants — are lowered to Python ints (rank 0)
and lists (rank 1); under torch.export a size stays a `torch.SymInt`, so the batch dimension stays dynamic.

Guarantee: each function here computes what its ONNX op computes on such values (numpy broadcasting between
rank 0 and 1; integer Div truncates toward zero). `static_values` decides which values are computed this way
from the IR's types alone; `VALUE_INPUTS` names the inputs the torch op table reads as Python numbers, which
receive these values (and constants) as Python values rather than tensors.
"""

from __future__ import annotations

import operator

import numpy as np
import torch
from onnx import TensorProto

from .graph import Graph
from .node import Node
from .torch_ops import DTYPES

LITERAL_LIMIT = 1024  # constants up to this many elements may be inlined as Python values


# ----- the ops on Python values ----------------------------------------------------------------------------
def shape(x, *, start=0, end=None):
    return list(x.shape)[start:end]


def size(x):
    return x.numel()


def gather(data, indices, *, axis=0):
    return [data[i] for i in indices] if isinstance(indices, list) else data[indices]


def unsqueeze(x, axes=None, **attributes):
    return [x]  # static values have rank <= 1, so only a scalar can be unsqueezed


def squeeze(x, axes=None, **attributes):
    return x[0]


def reshape(x, shape, *, allowzero=0):
    values = x if isinstance(x, list) else [x]
    return values if len(shape) else values[0]  # the target shape is [] (a scalar) or [n] / [-1]


def concat(*inputs, axis):
    return [v for values in inputs for v in values]


def slice_(x, starts=None, ends=None, axes=None, steps=None, **attributes):
    starts = starts if starts is not None else attributes["starts"]
    ends = ends if ends is not None else attributes["ends"]
    step = steps[0] if steps is not None else 1
    return x[starts[0] : ends[0] : step]  # ONNX's INT64_MAX "to the end" slices like Python's


def cast(x, *, to, saturate=1, round_mode="up"):
    convert = _bool if to == TensorProto.BOOL else _int
    return [convert(v) for v in x] if isinstance(x, list) else convert(x)


def _bool(v):
    return v != 0


def _int(v):
    return int(v) if isinstance(v, bool) else v


def identity(x):
    return x


def add(a, b):
    return _broadcast(operator.add, a, b)


def sub(a, b):
    return _broadcast(operator.sub, a, b)


def mul(a, b):
    return _broadcast(operator.mul, a, b)


def div(a, b):
    return _broadcast(_truncating_div, a, b)


def equal(a, b):
    return _broadcast(operator.eq, a, b)


def max_(*inputs):
    return _fold(max, inputs)


def min_(*inputs):
    return _fold(min, inputs)


def where(condition, a, b):
    if not any(isinstance(v, list) for v in (condition, a, b)):
        return a if condition else b
    return [x if c else y for c, x, y in zip(*_lists(condition, a, b))]


def constant_of_shape(shape, *, value=None):
    fill = value[0][0] if value is not None else 0
    return [fill] * shape[0]


def _truncating_div(a, b):
    return a // b if (a < 0) == (b < 0) else -(-a // b)


def _fold(function, inputs):
    result = inputs[0]
    for other in inputs[1:]:
        result = _broadcast(function, result, other)
    return result


def _scalar(v):
    return v[0] if isinstance(v, list) else v


def _broadcast(function, a, b):
    if not isinstance(a, list) and not isinstance(b, list):
        return function(a, b)
    return [function(x, y) for x, y in zip(*_lists(a, b))]


def _lists(*values) -> list[list]:
    """Scalars and length-1 lists repeated to the longest list's length: numpy broadcasting on ranks 0 and 1."""
    length = max(len(v) for v in values if isinstance(v, list))
    return [v if isinstance(v, list) and len(v) == length else [_scalar(v)] * length for v in values]


def as_tensor(values, *, dtype):
    """A Python value handed to an op that needs a tensor."""
    return torch.tensor(values, dtype=DTYPES[dtype])


STATIC_OPS = {
    "Shape": shape,
    "Size": size,
    "Gather": gather,
    "Unsqueeze": unsqueeze,
    "Squeeze": squeeze,
    "Concat": concat,
    "Reshape": reshape,
    "Slice": slice_,
    "Cast": cast,
    "Identity": identity,
    "Add": add,
    "Sub": sub,
    "Mul": mul,
    "Div": div,
    "Equal": equal,
    "Max": max_,
    "Min": min_,
    "Where": where,
    "ConstantOfShape": constant_of_shape,
}

READS_TENSORS = {"Shape", "Size"}  # static ops whose input is a tensor (any type); the others read Python values

# inputs that the torch op table reads as Python numbers (through `_ints` or float()): position -> reads
VALUE_INPUTS = {
    "Reshape": {1},
    "Expand": {1},
    "Tile": {1},
    "ConstantOfShape": {0},
    "Squeeze": {1},
    "Unsqueeze": {1},
    "Pad": {1, 2, 3},
    "Split": {1},
    "Slice": {1, 2, 3, 4},
    "ReduceMean": {1},
    "ReduceSum": {1},
    "ReduceMax": {1},
    "ReduceMin": {1},
    "ReduceProd": {1},
    "ReduceL2": {1},
    "ReduceSumSquare": {1},
}


# ----- which values are computed in Python -----------------------------------------------------------------
def literal(value) -> bool:
    """A constant small enough, and of a rank, to be written into the module's code as a Python value."""
    return value.is_const and np.ndim(value.const) <= 1 and np.size(value.const) <= LITERAL_LIMIT


def static_values(graph: Graph) -> set[int]:
    """The ids of the values computed in Python: integer or boolean constants of rank <= 1 and the outputs of
    STATIC_OPS nodes that read only such values (Shape and Size read any tensor) and whose output type is
    integer or boolean of rank <= 1."""
    static = {id(v) for v in graph.constants.values() if literal(v) and _small_integral(v)}
    for node in graph.nodes:
        if _static_node(node, static):
            static.update(id(v) for v in node.outputs)
    return static


def _static_node(node: Node, static: set[int]) -> bool:
    if node.domain or node.op not in STATIC_OPS or len(node.outputs) != 1 or not _small_integral(node.outputs[0]):
        return False
    if node.op in READS_TENSORS:
        return True
    if not all(v is None or id(v) in static for v in node.inputs):
        return False
    if node.op == "Squeeze":  # a rank-1 value squeezes only to a scalar
        return node.outputs[0].type.rank == 0
    return node.op != "Unsqueeze" or node.inputs[0].type.rank == 0


def _small_integral(value) -> bool:
    kind = value.type.dtype.kind if value.type is not None and value.type.dtype is not None else None
    return kind in ("i", "u", "b") and value.type.rank is not None and value.type.rank <= 1
