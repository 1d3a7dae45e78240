"""`python("file.py:make", k = v, ...)`: a user's function returns the data, called with the spec's arguments.

The function returns arrays `(x, y)` (numpy arrays, or anything `numpy.asarray` takes, such as tensors), held
in memory, or a map-style dataset (`torch.utils.data.Dataset`: `len(d)` and `d[i] -> (input, label)`), whose
items are read one batch at a time. A worker process gets the file, function and arguments and calls the
function again (user classes cannot be pickled by name), so the function must be deterministic."""

from __future__ import annotations

import inspect

import numpy as np

from stitchc.ir.samples import ArrayReader
from stitchc.ir.user_code import UserCodeError, call_user, import_file

from .arrays import check_arrays
from .errors import DataError, first_line


def python_reader(path: str, entry: str, kwargs: dict):
    """ArrayReader for returned arrays, DatasetReader for a returned dataset; DataError names file and cause."""
    data = _call(path, entry, kwargs)
    where = f"{path}: {entry}()"
    if isinstance(data, (tuple, list)) and len(data) == 2:
        try:
            x, y = (np.asarray(part) for part in data)
        except Exception as error:  # a user's objects convert or fail in many ways
            raise DataError(f"{where} returned a pair that is not two arrays ({first_line(error)})") from None
        check_arrays(where, x, y)
        return ArrayReader(x, y)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (str, bytes, dict)):
        return DatasetReader(data, path, entry, kwargs)
    raise DataError(f"{where} returned {type(data).__name__}; expected arrays (x, y) or a torch.utils.data.Dataset")


def _call(path: str, entry: str, kwargs: dict):
    try:
        module = import_file(path, "stitchc_user_data_")
    except UserCodeError as error:  # user code can raise (or exit with) anything
        raise DataError(f"{path}: cannot import ({error.cause}){error.where}") from None
    function = getattr(module, entry, None)
    if not callable(function):
        known = sorted(k for k, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__)
        raise DataError(f"{path}: no function '{entry}' (defines: {', '.join(known) or 'none'})")
    try:
        return call_user(path, function, **kwargs)
    except UserCodeError as error:
        raise DataError(f"{path}: {entry}() raised {error.cause}{error.where}") from None


class DatasetReader:
    """Items of a map-style dataset, `d[i] -> (input, label)`, stacked per batch."""

    def __init__(self, dataset, path: str, entry: str, kwargs: dict):
        self.dataset, self.call = dataset, (path, entry, kwargs)
        self.where = f"{path}: {entry}()"
        try:
            self.count = len(dataset)
        except Exception as error:
            raise DataError(f"{self.where} returned a dataset whose len() fails ({first_line(error)})") from None
        if self.count < 1:
            raise DataError(f"{self.where} returned an empty dataset")
        first, label = self._item(0)
        self._shape, self._dtype = first.shape, first.dtype
        if len(self._shape) < 1 or first.dtype.kind not in "biuf":
            raise DataError(
                f"{self.where}: item 0 has input {first.dtype}{list(first.shape)}; expected an array of numbers"
            )
        if label.shape != () or label.dtype.kind not in "biuf":
            raise DataError(f"{self.where}: item 0 has label {label!r}; expected one number (class or target)")

    def __reduce__(self):
        return python_reader, self.call

    def __len__(self) -> int:
        return self.count

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._shape)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def _item(self, index: int) -> tuple[np.ndarray, object]:
        try:
            item = self.dataset[index]
            x, y = item
            return np.asarray(x), np.asarray(y)
        except Exception as error:
            raise DataError(
                f"{self.where}: item {index} is not an (input, label) pair ({type(error).__name__}: {first_line(error)})"
            ) from None

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty((len(rows), *self._shape), dtype=self._dtype)
        y = []
        for i, row in enumerate(rows):
            item, label = self._item(int(row))
            if item.shape != self._shape:
                raise DataError(f"{self.where}: item {int(row)} has shape {item.shape}, item 0 {self._shape}")
            x[i] = item
            y.append(label)
        return x, np.asarray(y)
