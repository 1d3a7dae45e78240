"""Import an ONNX model into the IR: values typed by ONNX shape inference, initializers and Constant nodes as constants."""
from __future__ import annotations

import os

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from .errors import ModelLoadError
from .graph import Graph
from .node import Attribute, Node, Provenance
from .types import TensorType
from .value import Value


def load_onnx(path: str | os.PathLike, parent: str | None = None) -> Graph:
    """Reads an ONNX file into a Graph; every failure is a ModelLoadError naming the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelLoadError(path, "no such file")
    try:
        model = onnx.load(path)
    except (DecodeError, RuntimeError, ValueError, OSError) as error:
        raise ModelLoadError(path, f"not a readable ONNX model ({_first_line(error)})") from None
    if not model.graph.node and not model.graph.output:
        raise ModelLoadError(path, "not an ONNX model (no graph)")
    return from_onnx(model, parent or os.path.splitext(os.path.basename(path))[0], source=path)


def from_onnx(model: onnx.ModelProto, parent: str, source: str = "<model>") -> Graph:
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as error:  # onnx raises several unrelated types here
        raise ModelLoadError(source, f"ONNX shape inference failed ({_first_line(error)})") from None
    opsets = {o.domain if o.domain != "ai.onnx" else "": o.version for o in model.opset_import}
    graph = Graph(parent, opsets)
    types = _value_types(model.graph)
    values: dict[str, Value] = {}
    for tensor in model.graph.initializer:
        values[tensor.name] = _constant(graph, tensor.name, numpy_helper.to_array(tensor))
    for proto in model.graph.input:
        if proto.name not in values:
            values[proto.name] = graph.add_input(proto.name, types.get(proto.name))
    for proto in model.graph.node:
        if proto.op_type == "Constant" and proto.domain in ("", "ai.onnx") and _constant_array(proto) is not None:
            values[proto.output[0]] = _constant(graph, proto.output[0], _constant_array(proto))
            continue
        _add_node(graph, proto, values, types, parent)
    graph.outputs = [values[o.name] for o in model.graph.output]
    return graph


def _add_node(graph: Graph, proto: onnx.NodeProto, values: dict[str, Value], types: dict, parent: str) -> None:
    inputs = []
    for name in proto.input:
        if name == "":
            inputs.append(None)
        elif name in values:
            inputs.append(values[name])
        else:
            raise ModelLoadError(parent, f"node {proto.name or proto.op_type} reads undefined value '{name}'")
    attributes = {a.name: Attribute.from_onnx(a) for a in proto.attribute}
    name = graph.fresh_name(proto.name or f"{proto.op_type.lower()}")
    outputs = [Value(graph.fresh_name(o), types.get(o)) for o in proto.output]
    node = Node(proto.op_type, inputs, outputs, name, proto.domain if proto.domain != "ai.onnx" else "",
                attributes, Provenance(parent, module_path(proto.name) or name))
    graph._attach(node)
    graph.nodes.append(node)
    for original, value in zip(proto.output, outputs):
        values[original] = value


def module_path(node_name: str) -> str:
    """The module path in an exporter's node name: '/layer1/0/conv1/Conv' -> 'layer1.0.conv1'."""
    if not node_name.startswith("/"):
        return node_name
    parts = node_name.strip("/").split("/")[:-1]
    return ".".join(parts) or node_name.strip("/")


def _constant(graph: Graph, name: str, array: np.ndarray) -> Value:
    value = Value(graph.fresh_name(name), TensorType(array.dtype, tuple(array.shape)), const=array)
    graph.constants[value.name] = value
    return value


def _constant_array(proto: onnx.NodeProto) -> np.ndarray | None:
    for attribute in proto.attribute:
        if attribute.name == "value":
            return numpy_helper.to_array(attribute.t)
        if attribute.name in ("value_float", "value_int"):
            return np.array(onnx.helper.get_attribute_value(attribute),
                            dtype=np.float32 if attribute.name == "value_float" else np.int64)
        if attribute.name in ("value_floats", "value_ints"):
            return np.array(onnx.helper.get_attribute_value(attribute),
                            dtype=np.float32 if attribute.name == "value_floats" else np.int64)
    return None


def _value_types(graph: onnx.GraphProto) -> dict[str, TensorType | None]:
    types = {}
    for proto in [*graph.input, *graph.value_info, *graph.output]:
        types[proto.name] = TensorType.from_onnx(proto.type)
    return types


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
