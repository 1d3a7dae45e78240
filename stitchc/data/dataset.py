"""A dataset: train, val and test samples, split by seeded fractions or given as three parts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir.samples import Reader, Samples

from .errors import DataError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Samples
    val: Samples
    test: Samples

    def split(self, name: str) -> Samples:
        return getattr(self, name)


def split_by_fractions(name: str, reader: Reader, fractions: tuple[float, float, float], seed: int) -> Dataset:
    """Splits a seeded permutation of the reader's rows into train/val/test by the given fractions.

    Raises DataError (naming `name`, the source) when a split would be empty."""
    order = np.random.default_rng(seed).permutation(len(reader))
    n_train = round(fractions[0] * len(reader))
    n_val = round(fractions[1] * len(reader))
    parts = np.split(order, [n_train, n_train + n_val])
    for split, part in zip(SPLITS, parts):
        if not len(part):
            raise DataError(f"{name}: {len(reader)} samples leave the {split} split empty")
    return Dataset(name, *(Samples(reader, part) for part in parts))


def from_parts(name: str, readers: list[Reader], sources: list[str]) -> Dataset:
    """Train, val and test given as three readers (`sources` name them); every sample must have the same shape."""
    for reader, source in zip(readers, sources):
        if not len(reader):
            raise DataError(f"{source}: no samples")
        if tuple(reader.shape) != tuple(readers[0].shape):
            raise DataError(
                f"{source}: samples of shape {tuple(reader.shape)} differ from the training data's "
                f"{tuple(readers[0].shape)}"
            )
    return Dataset(name, *(Samples(reader) for reader in readers))
