"""Lower the IR to an ONNX ModelProto directly (no exporter in the loop)."""
from __future__ import annotations

import onnx
from onnx import helper, numpy_helper

from .graph import Graph

STITCHC_DOMAIN = "stitchc"


def to_onnx(graph: Graph, opset: int | None = None, producer: str = "stitchc") -> onnx.ModelProto:
    """Builds a ModelProto; constants used by nodes become initializers, typed values become value_info."""
    used = _used_constants(graph)
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
    initializers = [numpy_helper.from_array(v.const, v.name) for v in used]
    value_info = [
        v.type.to_onnx(v.name)
        for n in graph.nodes for v in n.outputs
        if v.type is not None and v not in graph.outputs
    ]
    proto_graph = helper.make_graph(
        nodes,
        graph.name,
        [v.type.to_onnx(v.name) for v in graph.inputs],
        [v.type.to_onnx(v.name) for v in graph.outputs],
        initializer=initializers,
        value_info=value_info,
    )
    opsets = dict(graph.opset_imports)
    if opset is not None:
        opsets[""] = opset
    opset_protos = [helper.make_opsetid(domain, version) for domain, version in sorted(opsets.items())]
    model = helper.make_model(proto_graph, opset_imports=opset_protos, producer_name=producer)
    model.ir_version = helper.find_min_ir_version_for(opset_protos, ignore_unknown=True)
    if opset is not None and opset != graph.opset_imports.get(""):
        model = onnx.version_converter.convert_version(model, opset)
    return model


def _used_constants(graph: Graph):
    used = {}
    for node in graph.nodes:
        for value in node.inputs:
            if value is not None and value.is_const:
                used[id(value)] = value
    for value in graph.outputs:
        if value.is_const:
            used[id(value)] = value
    return list(used.values())
