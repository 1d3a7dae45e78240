"""Load a checked `data` declaration: its source's readers, normalised, split into train/val/test."""

from __future__ import annotations

from stitchc.grammar.program import DataSpec

from .builtin import builtin_reader
from .dataset import Dataset, check_splits, from_parts, split_by_fractions
from .images import ImageFolderReader
from .normalised import Normalised
from .npy import NpyReader
from .npz import npz_reader
from .python_function import python_reader


def load_data(spec: DataSpec) -> Dataset:
    """The declared dataset; nothing is decoded beyond what shapes need. Raises DataError naming file and cause,
    EmptySplitError when a split is empty."""
    return check_splits(spec.name, _load(spec))


def _load(spec: DataSpec) -> Dataset:
    if spec.kind == "dataset":
        return split_by_fractions(spec.source, builtin_reader(spec.source), spec.split, spec.seed)
    readers = []
    for part in spec.parts:
        reader = _reader(spec, part, readers[0].reader if readers else None)
        options = spec.options
        readers.append(Normalised(reader, part[0], options.get("scale", 1.0), options.get("mean"), options.get("std")))
    if len(readers) == 1:
        return split_by_fractions(spec.source, readers[0], spec.split, spec.seed)
    return from_parts(spec.name, readers, [part[0] for part in spec.parts])


def _reader(spec: DataSpec, part: tuple[str, ...], train):
    options = spec.options
    if spec.kind == "npz":
        return npz_reader(part[0], options["x"], options["y"])
    if spec.kind == "npy":
        return NpyReader(*part)
    if spec.kind == "images":
        classes = train.classes if train is not None else None
        return ImageFolderReader(part[0], options["size"], options["channels"], classes)
    return python_reader(part[0], spec.entry, options["kwargs"])
