"""Decode once, read many times: samples whose reads decode files (image folders, a user's dataset) are written
once, batch by batch, as float32 .npy files in the run's cache and read back memory-mapped, one batch at a time.

A search evaluates every candidate on the same validation samples; decoding 20,000 PNGs per candidate would
cost more than small candidates' inference. Memory stays bounded by one batch (the file is written with plain
writes and read through NpyReader); the content fingerprint is computed in the same pass."""

from __future__ import annotations

import os

import numpy as np

from stitchc.ir.samples import Samples

from .images import ImageFolderReader
from .normalised import Normalised
from .npy import NpyReader
from .python_function import DatasetReader


def slow_to_read(samples: Samples) -> bool:
    """True when reading the samples decodes files or calls user code item by item."""
    reader = samples.reader.reader if isinstance(samples.reader, Normalised) else samples.reader
    return isinstance(reader, (ImageFolderReader, DatasetReader))


def spill(samples: Samples, folder: str, name: str) -> Samples:
    """The same samples, in the same order, read from `folder`/`name`-x.npy and -y.npy (written now)."""
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"{name}-{part}.npy") for part in ("x", "y")]
    header = {"descr": np.dtype(np.float32).str, "fortran_order": False, "shape": (len(samples), *samples.shape)}
    labels = []
    with open(paths[0] + ".partial", "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for x, y in samples.hashing_batches():
            handle.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
            labels.append(y)
    np.save(paths[1], np.concatenate(labels))
    os.replace(paths[0] + ".partial", paths[0])
    return Samples(NpyReader(*paths), fingerprint=samples.fingerprint())
