"""`npy(x = "x.npy", y = "y.npy")`: inputs and labels in two .npy files; the inputs are memory-mapped.

Each read maps the inputs file, copies the rows asked for (in file order) and unmaps it, so memory holds one
batch whatever the size of the file; the labels are read into memory (one number per sample)."""

from __future__ import annotations

import os

import numpy as np

from .arrays import check_arrays
from .errors import DataError, first_line


def _open(path: str, mmap: bool) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"{path}: not a readable .npy file ({first_line(error)})") from None


class NpyReader:
    def __init__(self, x_path: str, y_path: str):
        x, y = _open(x_path, mmap=True), _open(y_path, mmap=False)
        check_arrays(x_path, x, y, "x", os.path.basename(y_path))
        self.x_path, self.y = x_path, y
        self._shape, self._dtype = tuple(x.shape[1:]), x.dtype

    def __len__(self) -> int:
        return len(self.y)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows)
        order = np.argsort(rows, kind="stable")
        x = np.empty((len(rows), *self._shape), dtype=self._dtype)
        mapped = np.load(self.x_path, mmap_mode="r")
        x[order] = mapped[rows[order]]
        del mapped  # unmaps the file: its pages leave this process
        return x, self.y[rows]
