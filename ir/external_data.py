"""External tensor data of an ONNX model: resolved only inside the model's folder, checked, then loaded.

Guarantees, for every tensor of the model wherever it is stored (see tensor_places.py: initializers, sparse
initializers, Constant and other attributes, model-local function bodies, If/Loop/Scan subgraphs):
- a location that is empty, holds a NUL byte, is absolute, or resolves (`..`, symlinks) outside the folder
  holding the model is refused before any file is opened;
- only a regular file with a single link is read (a device such as /dev/zero, a FIFO, a folder, or a hard link
  that may be a file from elsewhere is refused); a FIFO is never waited on;
- `offset` and `length` must be non-negative decimal integers, and the range must lie inside the file;
- afterwards no tensor references external data: its bytes are inline, so nothing unchecked can be copied
  into a model stitchc writes.
Every refusal is a ModelLoadError naming the model, the tensor, its place and the cause.
"""

from __future__ import annotations

import os
import stat
from typing import NoReturn

import onnx

from .errors import ModelLoadError
from .tensor_places import model_tensors


def load_external_data(model: onnx.ModelProto, path: str) -> None:
    """Fills every externally stored tensor of `model` (read from `path`) in place, after checking it."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for place, tensor in model_tensors(model):
        if _refers(tensor):
            _Reference(tensor, place, folder, path).load()


def refuse_external_references(model: onnx.ModelProto, source: str) -> None:
    """Raises ModelLoadError when any tensor of `model` still refers to external data."""
    for place, tensor in model_tensors(model):
        if _refers(tensor):
            raise ModelLoadError(source, f"tensor '{tensor.name}' ({place}) refers to external data that was not read")


def _refers(tensor: onnx.TensorProto) -> bool:
    return tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data) > 0


class _Reference:
    """One tensor's external data reference, checked field by field."""

    def __init__(self, tensor: onnx.TensorProto, place: str, folder: str, path: str):
        self.tensor, self.folder, self.path = tensor, folder, path
        self.subject = f"tensor '{tensor.name}' ({place})"
        self.entries = {entry.key: entry.value for entry in tensor.external_data}
        self.location = self.entries.get("location", "")

    def fail(self, cause: str) -> NoReturn:
        raise ModelLoadError(self.path, f"{self.subject}: {cause}")

    def load(self) -> None:
        target = self._target()
        offset, length = self._integer("offset"), self._integer("length")
        try:
            handle = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except FileNotFoundError:
            self.fail(f"missing external data file '{self.location}'")
        except OSError as error:
            self.fail(f"cannot read external data file '{self.location}' ({error.strerror})")
        try:
            data = self._read(handle, offset or 0, length)
        finally:
            os.close(handle)
        self.tensor.raw_data = data
        del self.tensor.external_data[:]
        self.tensor.data_location = onnx.TensorProto.DEFAULT

    def _target(self) -> str:
        location = self.location
        if not location:
            self.fail("external data without a location")
        if "\0" in location:
            self.fail(f"external data path '{location}' holds a NUL byte")
        target = os.path.realpath(os.path.join(self.folder, location))
        if (
            os.path.isabs(location)
            or ".." in location.split("/")
            or os.path.commonpath([self.folder, target]) != self.folder
        ):
            self.fail(f"external data path '{location}' leaves the model's folder")
        return target

    def _integer(self, key: str) -> int | None:
        text = self.entries.get(key)
        if text is None:
            return None
        if not text.isdecimal() or not text.isascii():
            self.fail(f"external data {key} '{text}' is not a non-negative integer")
        return int(text)

    def _read(self, handle: int, offset: int, length: int | None) -> bytes:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            self.fail(f"external data file '{self.location}' is not a regular file (a device, FIFO or folder)")
        if status.st_nlink > 1:
            self.fail(
                f"external data file '{self.location}' has {status.st_nlink} hard links "
                "(refused: it may be a file from outside the model's folder)"
            )
        end = status.st_size if length is None else offset + length
        if offset > status.st_size or end > status.st_size:
            self.fail(
                f"external data file '{self.location}' holds {status.st_size} bytes, fewer than the "
                f"{end} that offset {offset} and length {end - offset} need"
            )
        os.lseek(handle, offset, os.SEEK_SET)
        chunks, remaining = [], end - offset
        while remaining > 0:
            chunk = os.read(handle, remaining)
            if not chunk:
                self.fail(f"external data file '{self.location}' ended while being read")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
