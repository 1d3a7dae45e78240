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
    """Splits a seeded permutation of the reader's rows into train/val/test by the given fractions (a split may
    be empty: `check_splits` refuses that, with the sizes)."""
    order = np.random.default_rng(seed).permutation(len(reader))
    n_train = round(fractions[0] * len(reader))
    n_val = round(fractions[1] * len(reader))
    parts = np.split(order, [n_train, n_train + n_val])
    return Dataset(name, *(Samples(reader, part) for part in parts))


def from_parts(name: str, readers: list[Reader], sources: list[str]) -> Dataset:
    """Train, val and test given as three readers (`sources` name them); every sample must have the same shape (a
    part may be empty: `check_splits` refuses that, with the sizes)."""
    for reader, source in zip(readers, sources):
        if tuple(reader.shape) != tuple(readers[0].shape):
            raise DataError(
                f"{source}: samples of shape {tuple(reader.shape)} differ from the training data's "
                f"{tuple(readers[0].shape)}"
            )
    return Dataset(name, *(Samples(reader) for reader in readers))


class EmptySplitError(DataError):
    """A split of a dataset holds no samples; the message names the split, the data and every split's size."""


def check_splits(name: str, dataset: Dataset) -> Dataset:
    """The dataset, if no split is empty; else raises EmptySplitError naming the first empty split and the sizes,
    such as `split 'test' of data 'd' is empty (train 1,000, val 200, test 0 samples)`."""
    sizes = {split: len(dataset.split(split)) for split in SPLITS}
    empty = next((split for split, size in sizes.items() if size == 0), None)
    if empty is not None:
        listed = ", ".join(f"{split} {size:,}" for split, size in sizes.items())
        raise EmptySplitError(f"split '{empty}' of data '{name}' is empty ({listed} samples)")
    return dataset
