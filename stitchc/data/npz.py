"""`npz("file.npz", x = "images", y = "labels")`: inputs and labels stored as two arrays of one .npz file.

The archive is read into memory (its members are compressed or zipped, so they cannot be memory-mapped):
data larger than memory belongs in `.npy` files (see npy.py)."""

from __future__ import annotations

import zipfile
import zlib

import numpy as np

from stitchc.ir.samples import ArrayReader

from .arrays import check_arrays
from .errors import DataError, first_line


def npz_reader(path: str, x_key: str = "x", y_key: str = "y") -> ArrayReader:
    """The arrays `x_key` (inputs) and `y_key` (labels) of the archive; DataError names the file and cause."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable .npz file ({first_line(error)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds a single array, not an .npz archive of named arrays")
    with archive:
        for key in (x_key, y_key):
            if key not in archive.files:
                raise DataError(f"{path}: no array '{key}' (arrays: {', '.join(archive.files) or 'none'})")
        try:
            x, y = archive[x_key], archive[y_key]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise DataError(f"{path}: corrupt array in the archive ({first_line(error)})") from None
    check_arrays(path, x, y, f"'{x_key}'", f"'{y_key}'")
    return ArrayReader(x, y)
