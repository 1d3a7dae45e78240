"""Every TensorProto of an ONNX model, wherever it is stored, with a readable name for its place.

Guarantee: `model_tensors` yields each tensor the model holds: graph initializers and sparse initializers
(values and indices), tensor and sparse-tensor attributes of any node (Constant among them), the bodies of
model-local functions (and their attribute defaults), subgraphs of If/Loop/Scan at any depth, and the
graphs of training info. Code that must see every tensor (external data checks) walks this, not its own loop.
Places read like 'initializer', 'node c1', 'function Scale, node Constant', 'node If then_branch, node Constant'.
"""

from __future__ import annotations

from collections.abc import Iterator

import onnx


def model_tensors(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """(place, tensor) for every tensor of `model`."""
    yield from graph_tensors(model.graph, "")
    for function in model.functions:
        where = f"function {function.name}"
        for attribute in function.attribute_proto:
            yield from _attribute_tensors(attribute, where)
        for node in function.node:
            yield from _node_tensors(node, where)
    for info in model.training_info:
        yield from graph_tensors(info.initialization, "training initialization")
        yield from graph_tensors(info.algorithm, "training algorithm")


def graph_tensors(graph: onnx.GraphProto, where: str) -> Iterator[tuple[str, onnx.TensorProto]]:
    yield from ((_within(where, "initializer"), t) for t in graph.initializer)
    for sparse in graph.sparse_initializer:
        yield _within(where, "sparse initializer"), sparse.values
        yield _within(where, "sparse initializer"), sparse.indices
    for node in graph.node:
        yield from _node_tensors(node, where)


def _within(where: str, what: str) -> str:
    return f"{where}, {what}" if where else what


def _node_tensors(node: onnx.NodeProto, where: str) -> Iterator[tuple[str, onnx.TensorProto]]:
    for attribute in node.attribute:
        yield from _attribute_tensors(attribute, _within(where, f"node {node.name or node.op_type}"))


def _attribute_tensors(attribute: onnx.AttributeProto, where: str) -> Iterator[tuple[str, onnx.TensorProto]]:
    if attribute.HasField("t"):
        yield where, attribute.t
    yield from ((where, t) for t in attribute.tensors)
    sparse = ([attribute.sparse_tensor] if attribute.HasField("sparse_tensor") else []) + list(attribute.sparse_tensors)
    for tensor in sparse:
        yield where, tensor.values
        yield where, tensor.indices
    for subgraph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
        yield from graph_tensors(subgraph, f"{where} {attribute.name}")
