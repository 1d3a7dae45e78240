"""Checks shared by the sources that read arrays (npz, npy, a Python function): one line naming the cause."""

from __future__ import annotations

import numpy as np

from .errors import DataError


def check_arrays(source: str, x, y, x_name: str = "x", y_name: str = "y") -> None:
    """Inputs [n, ...] of numbers; labels [n] of numbers (integer classes or float targets). No samples (n = 0) is
    left to the split check (stitchc.data.check_splits), which names the split and every split's size."""
    for name, array in ((x_name, x), (y_name, y)):
        if np.dtype(array.dtype).kind not in "biuf":
            raise DataError(f"{source}: {name} holds {np.dtype(array.dtype)}, not numbers")
    if len(x.shape) < 2:
        raise DataError(
            f"{source}: {x_name} has shape {tuple(x.shape)}; inputs need a sample axis and at least one more"
        )
    if len(y.shape) != 1:
        raise DataError(f"{source}: {y_name} has shape {tuple(y.shape)}; labels are one number per sample")
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{source}: {x_name} has {x.shape[0]} samples but {y_name} has {y.shape[0]}")
