"""Data sources named in specs, one per file: built-in datasets, .npz files, .npy pairs, image folders and
Python functions. Each yields readers behind `stitchc.ir.samples.Samples`, the batch interface every consumer
uses, so memory is bounded by a batch (memory-mapped .npy, image folders, datasets) where the source allows."""

from .builtin import load_dataset
from .dataset import Dataset, EmptySplitError
from .errors import DataError
from .load import load_data

__all__ = ["DataError", "Dataset", "EmptySplitError", "load_data", "load_dataset"]
