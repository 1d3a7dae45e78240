"""Sparse initializers (ONNX SparseTensorProto) made dense constants.

Guarantee: the dense array has the declared dims, zeros except the listed values at their indices (linear
indices of shape [NNZ], or coordinates of shape [NNZ, rank]); the dense size is checked against FOLD_BUDGET
before anything is allocated, and indices out of range, wrong counts or corrupt parts are a ModelLoadError.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import numpy_helper

from .errors import ModelLoadError
from .size_budget import FOLD_BUDGET


def dense_array(sparse: onnx.SparseTensorProto, source: str) -> np.ndarray:
    """The dense array of a sparse initializer, named by its values tensor."""
    name, dims = sparse.values.name, tuple(sparse.dims)

    def fail(cause: str):
        raise ModelLoadError(source, f"sparse initializer '{name}' {cause}")

    if sparse.values.data_type not in onnx.helper.get_all_tensor_dtypes():
        fail(f"has unknown element type {sparse.values.data_type}")
    itemsize = onnx.helper.tensor_dtype_to_np_dtype(sparse.values.data_type).itemsize
    if any(d < 0 for d in dims) or math.prod(dims) * itemsize > FOLD_BUDGET:
        fail(f"of shape {list(dims)} is negative or larger than {FOLD_BUDGET // 2**20} MiB dense")
    try:
        values, indices = numpy_helper.to_array(sparse.values), numpy_helper.to_array(sparse.indices)
    except (ValueError, TypeError, KeyError) as error:
        fail(f"is corrupt ({str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__})")
    dense = np.zeros(math.prod(dims), values.dtype)
    if indices.ndim == 2 and indices.shape[1] == len(dims) and np.all((indices >= 0) & (indices < dims)):
        indices = np.ravel_multi_index(tuple(indices.T), dims) if len(indices) else indices[:, 0]
    if indices.ndim != 1 or values.shape != indices.shape or np.any((indices < 0) | (indices >= dense.size)):
        fail(f"has indices that do not fit its {values.size} values and shape {list(dims)}")
    dense[indices] = values
    return dense.reshape(dims)
