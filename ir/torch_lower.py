"""Lower the IR to a torch.fx.GraphModule built from the op table in torch_ops.py.

Guarantees: one fx call per IR node (named after it, the IR node name kept in `meta["stitchc_node"]`); the
constants `trainable` selects become `nn.Parameter`s (copies: training never writes into the IR's arrays),
every other constant a buffer; forward takes the graph inputs in order and returns the single output or a
tuple of outputs. Sizes computed from shapes stay Python ints (torch_shapes.py), so the module exports with
`torch.export` keeping symbolic dimensions (the batch) dynamic. Every call target is a module-level function,
so the module pickles (`torch.save(module, f)`; `torch.load(f, weights_only=False)` gives it back). An op the
table lacks, or an attribute its function does not take, raises TorchLoweringError naming the op and the node,
before anything runs.
"""

from __future__ import annotations

import inspect
import re
import types

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import fx, nn

from .graph import Graph
from .node import Attribute, Node
from .subgraphs import has_subgraphs
from .torch_ops import OPS, TUPLE_OPS
from .torch_shapes import READS_TENSORS, STATIC_OPS, VALUE_INPUTS, as_tensor, literal, static_values


class TorchLoweringError(Exception):
    """A graph cannot be lowered to torch; the message names the op and the node."""


def to_torch(graph: Graph, trainable: bool | set[str] | frozenset[str] = frozenset()) -> fx.GraphModule:
    """`trainable=True` makes every floating-point constant an `nn.Parameter`; a set makes the constants it
    names parameters (each must exist and be floating point); False or an empty set keeps them all buffers.
    `module.stitchc_constants` maps each IR constant name to the module attribute holding it."""
    lowering = _Lowering(graph, _trainable_names(graph, trainable))
    for value in graph.inputs:
        lowering.tensors[id(value)] = lowering.body.placeholder(_identifier(value.name))
    opset = graph.opset_imports.get("", 17)
    for node in graph.nodes:
        lowering.emit(node, opset)
    results = [lowering.tensor(v) for v in graph.outputs]
    lowering.body.output(results[0] if len(results) == 1 else tuple(results))
    lowering.body._tracer_cls = OpTracer  # unpickling re-traces the module's code with it
    module = fx.GraphModule(lowering.root, lowering.body, class_name=_identifier(graph.name))
    module.stitchc_constants = lowering.names  # IR constant name -> module attribute name
    return module


class OpTracer(fx.Tracer):
    """The tracer fx re-traces a lowered module's code with when the module is unpickled: every op function
    stays one call, as it was lowered (fx's default tracer would trace into the functions, whose bodies read
    tensor values)."""

    def __init__(self, *args, **kwargs):
        functions = [*OPS.values(), *STATIC_OPS.values(), as_tensor, _item]
        kwargs.setdefault("autowrap_functions", tuple(f for f in functions if isinstance(f, types.FunctionType)))
        super().__init__(*args, **kwargs)


def _trainable_names(graph: Graph, trainable) -> set[str]:
    if isinstance(trainable, bool):
        return {n for n, v in graph.constants.items() if np.asarray(v.const).dtype.kind == "f"} if trainable else set()
    if isinstance(trainable, str):
        raise TorchLoweringError(
            f"trainable takes True, False or a set of constant names, not the string {trainable!r}"
        )
    unknown = set(trainable) - set(graph.constants)
    if unknown:
        raise TorchLoweringError(f"graph {graph.name}: no constants named {', '.join(sorted(unknown))}")
    return set(trainable)


class _Lowering:
    """The module being built: its root (parameters, buffers), its fx graph, and what each IR value became
    (`tensors`: an fx node giving a tensor; `python`: an fx node giving a Python int or list, see torch_shapes)."""

    def __init__(self, graph: Graph, trainable: set[str]):
        self.root, self.body = nn.Module(), fx.Graph()
        self.trainable = trainable
        self.static = static_values(graph)
        self.tensors: dict[int, fx.Node] = {}
        self.python: dict[int, fx.Node] = {}
        self.names: dict[str, str] = {}

    def emit(self, node: Node, opset: int) -> None:
        static = not node.domain and all(id(v) in self.static for v in node.outputs)
        function = STATIC_OPS[node.op] if static else (None if node.domain else OPS.get(node.op))
        if function is None:
            op = f"{node.domain}.{node.op}" if node.domain else node.op
            raise TorchLoweringError(f"no torch lowering for op {op} (node {node.name})")
        if has_subgraphs(node):
            raise TorchLoweringError(
                f"op {node.op} (node {node.name}) has subgraph attributes, which have no torch lowering"
            )
        args = [self._argument(node, i, v, static) for i, v in enumerate(node.inputs)]
        while args and args[-1] is None:
            args.pop()
        kwargs = {name: _attribute(a) for name, a in node.attributes.items()}
        _check_signature(function, node, len(args), kwargs, opset)
        call = self.body.create_node("call_function", function, tuple(args), kwargs, name=_identifier(node.name))
        call.meta["stitchc_node"] = node.name
        if static:
            self.python[id(node.outputs[0])] = call
        elif node.op in TUPLE_OPS:
            for index, value in enumerate(node.outputs):
                self.tensors[id(value)] = self.body.call_function(_item, (call, index))
        else:
            self.tensors[id(node.outputs[0])] = call

    def _argument(self, node: Node, index: int, value, static: bool):
        """An input as the op function reads it: a static op reads Python values (Shape and Size a tensor);
        any other op reads tensors, except at its VALUE_INPUTS (Python values where `value` gives one)."""
        if value is None:
            return None
        python = node.op not in READS_TENSORS if static else index in VALUE_INPUTS.get(node.op, ())
        return self.value(value) if python else self.tensor(value)

    def tensor(self, value):
        """The fx node giving `value` as a tensor (a constant's buffer or parameter is registered on first use)."""
        if id(value) not in self.tensors:
            if value.is_const:
                self.tensors[id(value)] = self._constant(value)
            else:  # a value computed in Python, read by an op that needs a tensor
                dtype = onnx.helper.np_dtype_to_tensor_dtype(value.type.dtype)
                self.tensors[id(value)] = self.body.call_function(
                    as_tensor, (self.python[id(value)],), {"dtype": dtype}
                )
        return self.tensors[id(value)]

    def value(self, value):
        """`value` as a Python value where it is one (computed in Python, or a constant inlined into the code),
        else as a tensor: the op functions accept both at these inputs."""
        if id(value) in self.python:
            return self.python[id(value)]
        if literal(value) and value.name not in self.trainable:
            return np.asarray(value.const).tolist()
        return self.tensor(value)

    def _constant(self, value) -> fx.Node:
        name = _identifier(value.name)
        while hasattr(self.root, name):
            name += "_"
        tensor = torch.from_numpy(np.array(value.const))
        if value.name in self.trainable:
            if not tensor.is_floating_point():
                raise TorchLoweringError(f"constant {value.name} ({tensor.dtype}) cannot be trainable")
            self.root.register_parameter(name, nn.Parameter(tensor))
        else:
            self.root.register_buffer(name, tensor)
        self.names[value.name] = name
        return self.body.get_attr(name)


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
