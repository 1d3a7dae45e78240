"""Labelled samples read in batches: the one interface through which evaluation, feature extraction and fitting
see data.

`Samples` is a reader (random access to the rows of one source: arrays, memory-mapped files, image folders,
a user's dataset) plus the positions of the rows it holds, in order. Consumers iterate `batches(size)`, so no
step holds more than one batch of inputs whatever the number of samples; `take` and `subset` only slice
positions and read nothing. Inputs come as numpy arrays [n, ...] (float32 from every stitchc source), labels
as [n] arrays. A Samples object pickles (to worker processes) as its reader and positions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Protocol

import numpy as np

HASH_BATCH = 256


class Reader(Protocol):
    """Random access to the rows of one source."""

    def __len__(self) -> int: ...

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one input sample (without the batch dim)."""

    @property
    def dtype(self) -> np.dtype:
        """The element type of the inputs `read` returns."""

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs [len(rows), *shape] and labels [len(rows)] of the given rows, in that order."""


class ArrayReader:
    """Rows of in-memory arrays (or numpy memory maps): inputs `x` [n, ...] and labels `y` [n]."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None = None):
        self.x = x
        self.y = np.zeros(len(x), dtype=np.int64) if y is None else y

    def __len__(self) -> int:
        return len(self.x)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.x[rows]), np.asarray(self.y[rows])


class Samples:
    """The rows `positions` of `reader`, in that order."""

    def __init__(self, reader: Reader, positions: np.ndarray | None = None, fingerprint: str | None = None):
        self.reader = reader
        self.positions = np.arange(len(reader)) if positions is None else np.asarray(positions, dtype=np.int64)
        self._fingerprint = fingerprint  # known when the same content was hashed before (see `fingerprint`)

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one input sample."""
        return self.reader.shape

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.reader.dtype)

    def read(self, which: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and labels of the samples at `which` (indices into these samples, not into the reader)."""
        return self.reader.read(self.positions[which])

    def batches(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(inputs, labels) of consecutive batches of at most `size` samples, in order."""
        for start in range(0, len(self), size):
            yield self.read(slice(start, start + size))

    def take(self, count: int) -> Samples:
        """The first `count` samples."""
        return Samples(self.reader, self.positions[:count])

    def subset(self, which: np.ndarray) -> Samples:
        """The samples at `which` (indices into these samples)."""
        return Samples(self.reader, self.positions[which])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every input and label in memory at once: for small data and tests, never in the pipeline."""
        return self.read(slice(None))

    @property
    def x(self) -> np.ndarray:
        """Every input in memory (see `arrays`)."""
        return self.arrays()[0]

    @property
    def y(self) -> np.ndarray:
        """Every label in memory (see `arrays`)."""
        return self.arrays()[1]

    def labels(self, size: int = 1024) -> np.ndarray:
        """Every label, read batch by batch (each batch's inputs dropped): memory bounded by one batch of inputs."""
        parts = [y for _, y in self.batches(size)]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def fingerprint(self) -> str:
        """A hash of the inputs and labels, read once in batches (then remembered): the key of caches and run
        stores, equal for equal content whatever the source."""
        if self._fingerprint is None:
            for _ in self.hashing_batches():
                pass
        return self._fingerprint

    def hashing_batches(self, size: int = HASH_BATCH) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`batches(size)` that also computes the fingerprint once read to the end (one pass for both)."""
        digest = hashlib.sha256(repr((self.shape, str(self.dtype), len(self))).encode())
        for x, y in self.batches(size):
            digest.update(np.ascontiguousarray(x).tobytes())
            digest.update(np.ascontiguousarray(y).tobytes())
            yield x, y
        self._fingerprint = digest.hexdigest()


def as_samples(x: Samples | np.ndarray, y: np.ndarray | None = None) -> Samples:
    """Samples as they are; arrays (inputs, optional labels) wrapped in memory."""
    return x if isinstance(x, Samples) else Samples(ArrayReader(x, y))
