"""Import an ONNX model into the IR.

Guarantees: every value keeps its ONNX name (subgraphs of If/Loop/Scan may read outer values by name, and
are carried unchanged as attributes); values are typed by ONNX shape inference (tensors as TensorType,
sequences/maps/optionals as OpaqueType); initializers (also those listed as graph inputs) and Constant
nodes become constants; model-local functions are carried; nodes computing only from constants are folded
into constants (see fold.py); dims that inference left unknown are bound by running the graph (see
shape_binding.py), and what that made constant is folded too; node provenance holds the exporter's module
path. Failures raise ModelLoadError naming the file.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from .errors import ModelLoadError
from .external_data import load_external_data, refuse_external_references
from .fold import fold_constants
from .graph import Graph
from .node import Attribute, Node, Provenance
from .proto_text import invalid_text
from .shape_binding import bind_shapes
from .sparse import dense_array
from .types import TensorType, type_from_onnx
from .value import Value


def load_onnx(path: str | os.PathLike, parent: str | None = None, fold: bool = True) -> Graph:
    """Reads an ONNX file (and its external data, which must stay inside the model's folder) into a Graph."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelLoadError(path, "not a regular file" if os.path.exists(path) else "no such file")
    if os.path.getsize(path) == 0:
        raise ModelLoadError(path, "empty file, not an ONNX model")
    try:
        model = onnx.load(path, load_external_data=False)
    except DecodeError:
        raise ModelLoadError(
            path, "not a readable ONNX model (truncated or corrupt: the protobuf does not parse)"
        ) from None
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelLoadError(path, f"not a readable ONNX model ({_first_line(error)})") from None
    if not model.graph.node and not model.graph.output:
        raise ModelLoadError(path, "not an ONNX model (no graph)")
    garbled = invalid_text(model)
    if garbled:
        raise ModelLoadError(path, f"corrupt: the text of {garbled} is not valid UTF-8")
    load_external_data(model, path)
    return from_onnx(model, parent or os.path.splitext(os.path.basename(path))[0], source=path, fold=fold)


def from_onnx(model: onnx.ModelProto, parent: str, source: str = "<model>", fold: bool = True) -> Graph:
    """The IR of an in-memory model; a tensor still referring to external data (only `load_onnx` checks and
    reads those) is refused, so no unchecked reference can reach a model stitchc writes."""
    refuse_external_references(model, source)
    model = _infer_shapes(model, source)
    opsets = {o.domain if o.domain != "ai.onnx" else "": o.version for o in model.opset_import}
    graph = Graph(parent, opsets)
    graph.functions = list(model.functions)
    graph._names.update(_value_names(model.graph))
    types = _value_types(model.graph)
    values: dict[str, Value] = {}
    for tensor in model.graph.initializer:
        values[tensor.name] = _constant(graph, tensor.name, _array(tensor, source))
    for sparse in model.graph.sparse_initializer:
        values[sparse.values.name] = _constant(graph, sparse.values.name, dense_array(sparse, source))
    for proto in model.graph.input:
        if proto.name not in values:
            values[proto.name] = _bind(graph, Value(proto.name, types.get(proto.name)))
            graph.inputs.append(values[proto.name])
    for proto in model.graph.node:
        array = _constant_array(proto, source)
        if array is not None:
            values[proto.output[0]] = _constant(graph, proto.output[0], array)
        else:
            _add_node(graph, proto, values, types, parent, source)
    for proto in model.graph.output:
        if proto.name not in values:
            raise ModelLoadError(source, f"graph output '{proto.name}' is produced by no node")
    graph.outputs = [values[o.name] for o in model.graph.output]
    if fold:
        fold_constants(graph)
    if bind_shapes(graph) and fold:
        fold_constants(graph)  # shape arithmetic on values whose shapes just became static
    return graph


def _infer_shapes(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """Shape inference with data propagation, falling back to plain inference (data_prop fails on some ops)."""
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # onnx raises several unrelated types here
        pass
    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception as error:
        raise ModelLoadError(source, f"ONNX shape inference failed ({_first_line(error)})") from None


def _add_node(
    graph: Graph, proto: onnx.NodeProto, values: dict[str, Value], types: dict, parent: str, source: str
) -> None:
    inputs = []
    for name in proto.input:
        if name == "":
            inputs.append(None)
        elif name in values:
            inputs.append(values[name])
        else:
            raise ModelLoadError(source, f"node {proto.name or proto.op_type} reads undefined value '{name}'")
    attributes = {a.name: _attribute(a, proto, source) for a in proto.attribute}
    name = graph.fresh_name(proto.name or proto.op_type.lower())
    outputs = [Value(o, types.get(o)) for o in proto.output]
    domain = proto.domain if proto.domain != "ai.onnx" else ""
    node = Node(proto.op_type, inputs, outputs, name, domain, attributes, Provenance(parent, node_path(proto) or name))
    graph._attach(node)
    graph.nodes.append(node)
    for original, value in zip(proto.output, outputs):
        if original:
            values[original] = value


def _attribute(attribute: onnx.AttributeProto, proto: onnx.NodeProto, source: str) -> Attribute:
    try:
        value = Attribute.from_onnx(attribute)
    except (ValueError, TypeError, KeyError) as error:
        value, cause = None, _first_line(error)
    else:
        cause = f"its type {attribute.type} gives no value"
    if value is None or value.value is None:
        raise ModelLoadError(
            source, f"node {proto.name or proto.op_type}: attribute '{attribute.name}' is corrupt ({cause})"
        )
    return value


def node_path(proto: onnx.NodeProto) -> str:
    """The module path of an exported node: from the dynamo exporter's name scopes, else from the node name."""
    for entry in proto.metadata_props:
        if entry.key == "pkg.torch.onnx.name_scopes":
            scopes = [s.strip(" '\"") for s in entry.value.strip("[]").split(",")]
            modules = [s for s in scopes[:-1] if s]
            if modules:
                return modules[-1]
    return module_path(proto.name)


def module_path(node_name: str) -> str:
    """The module path in an exporter's node name.

    '/layer1/0/conv1/Conv' -> 'layer1.0.conv1'; newer exporters qualify a scope by its enclosing ones:
    '/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1', '/b/downsample/downsample.0/Conv' -> 'b.downsample.0'.
    """
    if not node_name.startswith("/"):
        return node_name
    path = ""
    for part in node_name.strip("/").split("/")[:-1]:
        head = part.rpartition(".")[0]
        if head and (path == head or path.endswith("." + head)):
            path = path[: len(path) - len(head)] + part
        else:
            path = f"{path}.{part}" if path else part
    return path or node_name.strip("/")


def _bind(graph: Graph, value: Value) -> Value:
    graph._names.add(value.name)
    return value


def _constant(graph: Graph, name: str, array: np.ndarray) -> Value:
    value = _bind(graph, Value(name, TensorType(array.dtype, tuple(array.shape)), const=array))
    graph.constants[value.name] = value
    return value


def _array(tensor: onnx.TensorProto, source: str) -> np.ndarray:
    if tensor.data_type not in onnx.helper.get_all_tensor_dtypes():
        raise ModelLoadError(source, f"tensor '{tensor.name}' has unknown element type {tensor.data_type}")
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError) as error:
        raise ModelLoadError(source, f"tensor '{tensor.name}' is corrupt ({_first_line(error)})") from None


def _constant_array(proto: onnx.NodeProto, source: str) -> np.ndarray | None:
    """The array of a standard Constant node holding a dense numeric tensor, else None (the node is kept)."""
    if proto.op_type != "Constant" or proto.domain not in ("", "ai.onnx") or len(proto.attribute) != 1:
        return None
    attribute = proto.attribute[0]
    if attribute.name == "value" and attribute.t.data_type != onnx.TensorProto.STRING:
        return _array(attribute.t, source)
    if attribute.name in ("value_float", "value_floats"):
        return np.array(onnx.helper.get_attribute_value(attribute), dtype=np.float32)
    if attribute.name in ("value_int", "value_ints"):
        return np.array(onnx.helper.get_attribute_value(attribute), dtype=np.int64)
    return None


def _value_names(graph: onnx.GraphProto) -> set[str]:
    names = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    names |= {i.name for i in graph.input}
    for node in graph.node:
        names.update(node.output)
    return names - {""}


def _value_types(graph: onnx.GraphProto) -> dict:
    return {proto.name: type_from_onnx(proto.type) for proto in [*graph.input, *graph.value_info, *graph.output]}


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
