"""What every file source hands on: inputs as float32 divided by `scale`, then normalised per channel."""

from __future__ import annotations

import numpy as np

from stitchc.ir.samples import Reader

from .errors import DataError


class Normalised:
    """x = (x / scale - mean) / std, per channel (the first axis of a sample), as float32; integer labels
    become int64 and float labels (regression targets) float32."""

    def __init__(
        self,
        reader: Reader,
        source: str,
        scale: float = 1.0,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
    ):
        self.reader, self.scale = reader, scale
        self.mean = self.std = None
        if mean is not None:
            channels = reader.shape[0] if reader.shape else 1
            for key, values in (("mean", mean), ("std", std)):
                if len(values) not in (1, channels):
                    raise DataError(f"{source}: '{key}' has {len(values)} values for {channels} channels")
            broadcast = (-1,) + (1,) * max(len(reader.shape) - 1, 0)
            self.mean = np.asarray(mean, dtype=np.float32).reshape(broadcast)
            self.std = np.asarray(std, dtype=np.float32).reshape(broadcast)

    def __len__(self) -> int:
        return len(self.reader)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.reader.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.reader.read(rows)
        x = np.asarray(x, dtype=np.float32)
        if self.scale != 1.0:
            x = x / np.float32(self.scale)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        y = np.asarray(y)
        return x, y.astype(np.float32 if y.dtype.kind == "f" else np.int64)
