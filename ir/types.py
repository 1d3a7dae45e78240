"""Tensor types of the IR: an element type and a shape whose dims are ints or symbols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np
import onnx
from onnx import helper

Dim = Union[int, str, None]


@dataclass(frozen=True)
class TensorType:
    """The static type of a value: numpy element type and shape (None when rank is unknown)."""

    dtype: np.dtype
    shape: tuple[Dim, ...] | None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def feature_shape(self) -> tuple[Dim, ...] | None:
        """The shape without the leading batch dimension."""
        return None if self.shape is None else self.shape[1:]

    def is_static_feature(self) -> bool:
        """True when every dim but the batch dim is a known int."""
        dims = self.feature_shape()
        return dims is not None and all(isinstance(d, int) for d in dims)

    def __str__(self) -> str:
        dims = "?" if self.shape is None else ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{np.dtype(self.dtype).name}[{dims}]"

    @staticmethod
    def from_onnx(type_proto: onnx.TypeProto) -> TensorType | None:
        """Reads a tensor TypeProto; returns None for non-tensor or untyped values."""
        if not type_proto.HasField("tensor_type"):
            return None
        tensor = type_proto.tensor_type
        if tensor.elem_type not in helper.get_all_tensor_dtypes() or tensor.elem_type == 0:
            return None  # no element type, or one this onnx does not know: carried opaquely
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type))
        if not tensor.HasField("shape"):
            return TensorType(dtype, None)
        dims: list[Dim] = []
        for dim in tensor.shape.dim:
            if dim.HasField("dim_value"):
                dims.append(int(dim.dim_value))
            elif dim.HasField("dim_param"):
                dims.append(dim.dim_param)
            else:
                dims.append(None)
        return TensorType(dtype, tuple(dims))

    def to_onnx(self, name: str) -> onnx.ValueInfoProto:
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(self.dtype))
        return helper.make_tensor_value_info(name, elem, None if self.shape is None else list(self.shape))


@dataclass(frozen=True)
class OpaqueType:
    """A type the IR has no special knowledge of (sequence, map, optional, sparse, unknown element type).

    It is carried as the serialized ONNX TypeProto and lowered back unchanged; it has no dtype, shape or rank.
    """

    proto: bytes
    dtype = None
    shape = None
    rank = None

    def feature_shape(self) -> None:
        return None

    def is_static_feature(self) -> bool:
        return False

    def __str__(self) -> str:
        kind = onnx.TypeProto.FromString(self.proto).WhichOneof("value")
        return kind or "?"

    def to_onnx(self, name: str) -> onnx.ValueInfoProto:
        info = onnx.ValueInfoProto(name=name)
        info.type.ParseFromString(self.proto)
        return info


def type_from_onnx(type_proto: onnx.TypeProto) -> TensorType | OpaqueType | None:
    """A TensorType when the proto is a typed tensor, an OpaqueType for other declared types, else None."""
    tensor = TensorType.from_onnx(type_proto)
    if tensor is not None or type_proto.WhichOneof("value") is None:
        return tensor
    return OpaqueType(type_proto.SerializeToString())


def value_info(name: str, type: TensorType | OpaqueType | None) -> onnx.ValueInfoProto:
    """The ValueInfoProto of a value: its type when known, only its name otherwise."""
    return onnx.ValueInfoProto(name=name) if type is None else type.to_onnx(name)
