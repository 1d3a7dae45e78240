"""Lower the IR to a torch.fx.GraphModule built from the op table in torch_ops.py.

Guarantees: one fx call per IR node (named after it, the IR node name kept in `meta["stitchc_node"]`); the
constants named in `trainable` become `nn.Parameter`s (copies: training never writes into the IR's arrays),
every other constant a buffer; forward takes the graph inputs in order and returns the single output or a
tuple of outputs. An op the table lacks, or an attribute its function does not take, raises
TorchLoweringError naming the op and the node, before anything runs.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import fx, nn

from .graph import Graph
from .node import Attribute, Node
from .subgraphs import has_subgraphs
from .torch_ops import OPS, TUPLE_OPS


class TorchLoweringError(Exception):
    """A graph cannot be lowered to torch; the message names the op and the node."""


def to_torch(graph: Graph, trainable: set[str] | frozenset[str] = frozenset()) -> fx.GraphModule:
    unknown = set(trainable) - set(graph.constants)
    if unknown:
        raise TorchLoweringError(f"graph {graph.name}: no constants named {', '.join(sorted(unknown))}")
    root, body = nn.Module(), fx.Graph()
    env: dict[int, fx.Node] = {}
    for value in graph.inputs:
        env[id(value)] = body.placeholder(_identifier(value.name))
    names: dict[str, str] = {}
    for value in _used_constants(graph):
        env[id(value)] = _constant(root, body, value, value.name in trainable)
        names[value.name] = env[id(value)].target
    opset = graph.opset_imports.get("", 17)
    for node in graph.nodes:
        _emit(body, node, env, opset)
    results = [env[id(v)] for v in graph.outputs]
    body.output(results[0] if len(results) == 1 else tuple(results))
    module = fx.GraphModule(root, body, class_name=_identifier(graph.name))
    module.stitchc_constants = names  # IR constant name -> module attribute name
    return module


def _used_constants(graph: Graph):
    used = {id(v): v for n in graph.nodes for v in n.inputs if v is not None and v.is_const}
    used.update({id(v): v for v in graph.outputs if v.is_const})
    return list(used.values())


def _constant(root: nn.Module, body: fx.Graph, value, trainable: bool) -> fx.Node:
    name = _identifier(value.name)
    while hasattr(root, name):
        name += "_"
    tensor = torch.from_numpy(np.array(value.const))
    if trainable:
        if not tensor.is_floating_point():
            raise TorchLoweringError(f"constant {value.name} ({tensor.dtype}) cannot be trainable")
        root.register_parameter(name, nn.Parameter(tensor))
    else:
        root.register_buffer(name, tensor)
    return body.get_attr(name)


def _emit(body: fx.Graph, node: Node, env: dict[int, fx.Node], opset: int) -> None:
    function = None if node.domain else OPS.get(node.op)
    if function is None:
        op = f"{node.domain}.{node.op}" if node.domain else node.op
        raise TorchLoweringError(f"no torch lowering for op {op} (node {node.name})")
    if has_subgraphs(node):
        raise TorchLoweringError(
            f"op {node.op} (node {node.name}) has subgraph attributes, which have no torch lowering"
        )
    args = [None if v is None else env[id(v)] for v in node.inputs]
    while args and args[-1] is None:
        args.pop()
    kwargs = {name: _attribute(a) for name, a in node.attributes.items()}
    _check_signature(function, node, len(args), kwargs, opset)
    call = body.create_node("call_function", function, tuple(args), kwargs, name=_identifier(node.name))
    call.meta["stitchc_node"] = node.name
    if node.op in TUPLE_OPS:
        for index, value in enumerate(node.outputs):
            env[id(value)] = body.call_function(_item, (call, index))
    else:
        env[id(node.outputs[0])] = call


def _item(values, index: int):
    return values[index]


def _check_signature(function, node: Node, arity: int, kwargs: dict, opset: int) -> None:
    try:
        signature = inspect.signature(function)
    except ValueError:  # builtins such as torch.eq take their inputs positionally
        return
    if "opset" in signature.parameters:
        kwargs["opset"] = opset
    try:
        signature.bind(*([None] * arity), **kwargs)
    except TypeError as error:
        raise TorchLoweringError(f"op {node.op} (node {node.name}) cannot be lowered to torch: {error}") from None


def _attribute(attribute: Attribute):
    """An attribute as a plain Python value fx can print into code: strings decoded, tensors as (list, dtype)."""
    value = attribute.value
    if attribute.kind == onnx.AttributeProto.STRING:
        return value.decode()
    if attribute.kind == onnx.AttributeProto.STRINGS:
        return [v.decode() for v in value]
    if attribute.kind == onnx.AttributeProto.TENSOR:
        return (numpy_helper.to_array(value).reshape(-1).tolist(), value.data_type)
    return value


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    return name if name and not name[0].isdigit() else f"v_{name}"
