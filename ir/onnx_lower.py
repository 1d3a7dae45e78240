"""Lower the IR to an ONNX ModelProto directly (no exporter in the loop).

Guarantees: names, attributes (subgraphs included), opaque types and model-local functions come out as
they went in; constants read by nodes, by graph outputs or by name from inside a subgraph become
initializers; `opset` converts the result with onnx's version converter, and a
conversion that leaves invalid nodes raises (onnx.checker's ValidationError) instead of returning them.
"""

from __future__ import annotations

import onnx
from onnx import helper, numpy_helper

from .graph import Graph
from .subgraphs import captured_names, has_subgraphs
from .types import value_info


def to_onnx(
    graph: Graph, opset: int | None = None, producer: str = "stitchc", external: dict | None = None
) -> onnx.ModelProto:
    """Builds a ModelProto; constants used by nodes become initializers, typed values become value_info.

    With `external` (a dict), constants of at least EXTERNAL_BYTES are not serialised: their initializer is
    a placeholder marked as external data (location EXTERNAL_LOCATION) and `external` receives name -> array,
    for ONNX Runtime's `SessionOptions.add_external_initializers` (see session_cache.py)."""
    nodes = [
        helper.make_node(
            node.op,
            ["" if v is None else v.name for v in node.inputs],
            [v.name for v in node.outputs],
            name=node.name,
            domain=node.domain,
        )
        for node in graph.nodes
    ]
    for proto, node in zip(nodes, graph.nodes):
        proto.attribute.extend(a.to_onnx(k) for k, a in node.attributes.items())
    initializers = [_initializer(v, external) for v in _used_constants(graph)]
    outputs = {id(v) for v in graph.outputs}
    value_infos = [
        v.type.to_onnx(v.name)
        for n in graph.nodes
        for v in n.outputs
        if v.type is not None and v.name and id(v) not in outputs
    ]
    proto_graph = helper.make_graph(
        nodes,
        graph.name,
        [value_info(v.name, v.type) for v in graph.inputs],
        [value_info(v.name, v.type) for v in graph.outputs],
        initializer=initializers,
        value_info=value_infos,
    )
    opsets = dict(graph.opset_imports)
    opsets.setdefault("", opset or 17)
    opset_protos = [helper.make_opsetid(domain, version) for domain, version in sorted(opsets.items())]
    model = helper.make_model(
        proto_graph, opset_imports=opset_protos, producer_name=producer, functions=graph.functions
    )
    minimum = helper.find_min_ir_version_for(opset_protos, ignore_unknown=True)
    model.ir_version = max(minimum, 8) if graph.functions else minimum
    if opset is not None and opset != graph.opset_imports.get(""):
        model = _convert(model, opset)
    return model


EXTERNAL_BYTES = 1024  # smaller constants (shapes, axes, scalars) stay in the proto
EXTERNAL_LOCATION = "stitchc-session-memory"  # never a file: the data comes from add_external_initializers


def _initializer(value, external: dict | None) -> onnx.TensorProto:
    array = value.const
    if external is None or array.nbytes < EXTERNAL_BYTES or array.dtype.kind not in "biuf":
        return numpy_helper.from_array(array, value.name)
    external[value.name] = array
    tensor = onnx.TensorProto(name=value.name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype), dims=array.shape)
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=EXTERNAL_LOCATION)
    return tensor


def _convert(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """onnx's version converter, which only sees initializers that are also graph inputs: list them, convert,
    unlist them. A conversion that leaves invalid nodes (missing adapters) raises the checker's error."""
    count = len(model.graph.input)
    model.graph.input.extend(
        helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in model.graph.initializer
    )
    converted = onnx.version_converter.convert_version(model, opset)
    del model.graph.input[count:]
    del converted.graph.input[count:]
    converted.ir_version = max(
        converted.ir_version, helper.find_min_ir_version_for(list(converted.opset_import), ignore_unknown=True)
    )
    onnx.checker.check_model(converted)
    return converted


def _used_constants(graph: Graph):
    used = {}
    for node in graph.nodes:
        for value in node.inputs:
            if value is not None and value.is_const:
                used[id(value)] = value
    for value in graph.outputs:
        if value.is_const:
            used[id(value)] = value
    for name in {n for node in graph.nodes if has_subgraphs(node) for n in captured_names(node)}:
        value = graph.constants.get(name)
        if value is not None:
            used[id(value)] = value
    return list(used.values())
