"""The typed graph IR: values, nodes, graphs; ONNX import and lowering; cost model; ORT execution."""

from .errors import ModelLoadError
from .graph import Graph
from .node import Attribute, Node, Provenance
from .onnx_import import from_onnx, load_onnx
from .types import TensorType
from .value import Value

__all__ = [
    "Attribute",
    "Graph",
    "ModelLoadError",
    "Node",
    "Provenance",
    "TensorType",
    "Value",
    "from_onnx",
    "load_onnx",
]
