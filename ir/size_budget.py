"""Memory budgets of the work stitchc does on a model at import (constant folding, shape probing).

A few bytes of ONNX can describe a huge tensor (`ConstantOfShape` of 1e9 elements is 174 bytes), so import
never computes a value whose size it cannot bound first. Sizes come from static types, never from running
anything: `static_bytes` is None when a shape is unknown or symbolic.
"""

from __future__ import annotations

import math

import numpy as np

from .types import TensorType
from .value import Value

FOLD_BUDGET = 64 * 2**20  # bytes: a constant-folded result larger than this stays a node
FOLD_TOTAL = 16 * FOLD_BUDGET  # bytes: folding stops adding nodes once its results reach this
PROBE_BUDGET = 2**30  # bytes: shape probing runs a graph only when every static value at batch 2 fits


def static_bytes(value: Value, batch: int | None = None) -> int | None:
    """Bytes of `value` from its type; a symbolic dim counts as `batch` when one is given (a lower bound for dims
    like '64*N'), else makes the size unknown; None when unknown."""
    kind = value.type
    if not isinstance(kind, TensorType) or kind.shape is None or kind.dtype is None:
        return None
    dims = [d if isinstance(d, int) else batch if isinstance(d, str) else None for d in kind.shape]
    if any(d is None or d < 0 for d in dims):
        return None
    return math.prod(dims) * np.dtype(kind.dtype).itemsize


def elements(value: Value) -> int | None:
    """Elements of `value` when its shape is static."""
    size = static_bytes(value)
    return None if size is None else size // max(np.dtype(value.type.dtype).itemsize, 1)
