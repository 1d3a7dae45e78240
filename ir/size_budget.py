"""Memory budgets of the work stitchc does on a model at import (constant folding, shape probing).

A few bytes of ONNX can describe a huge tensor (`ConstantOfShape` of 1e9 elements is 160 bytes), so import never
computes a value whose size it cannot bound first. Sizes come from types, never from running anything:
`inferred_bytes` infers them afresh from the values and shapes of constants (the types a file declares can lie:
an output declared float[1] may be 4 GB); `static_bytes` reads a value's type. Both give None for an unknown size.
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from .types import TensorType
from .value import Value

FOLD_BUDGET = 64 * 2**20  # bytes: a constant-folded result larger than this stays a node
FOLD_TOTAL = 16 * FOLD_BUDGET  # bytes: folding stops adding nodes once its results reach this
PROBE_BUDGET = 2**30  # bytes: shape probing runs a graph only when every value it can size fits at batch 2
SHAPE_DATA = 2**16  # bytes: constants up to this size are given to shape inference by value (shapes, indices)


def static_bytes(value: Value, batch: int | None = None) -> int | None:
    """Bytes of `value` from its type; a symbolic dim counts as `batch` when one is given (a lower bound for dims
    like '64*N'), else makes the size unknown; None when unknown."""
    return type_bytes(value.type, batch)


def type_bytes(kind, batch: int | None = None) -> int | None:
    if not isinstance(kind, TensorType) or kind.shape is None or kind.dtype is None:
        return None
    dims = [d if isinstance(d, int) else batch if isinstance(d, str) else None for d in kind.shape]
    if any(d is None or d < 0 for d in dims):
        return None
    return math.prod(dims) * np.dtype(kind.dtype).itemsize


def inferred_bytes(model: onnx.ModelProto) -> dict[str, int | None]:
    """Bytes of every value of `model` as ONNX shape inference derives them (declared types are dropped first);
    empty when inference fails."""
    bare = onnx.ModelProto()
    bare.CopyFrom(model)
    del bare.graph.value_info[:]
    for output in bare.graph.output:
        output.ClearField("type")
    for data_prop in (True, False):
        try:
            inferred = onnx.shape_inference.infer_shapes(bare, data_prop=data_prop)
        except Exception:  # onnx raises several unrelated types here
            continue
        infos = [*inferred.graph.value_info, *inferred.graph.output]
        return {info.name: type_bytes(TensorType.from_onnx(info.type)) for info in infos}
    return {}
