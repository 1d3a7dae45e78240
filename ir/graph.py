"""The graph: inputs, constants, nodes in topological order, outputs, and the editing operations passes use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .node import Attribute, Node, Provenance
from .types import TensorType
from .value import Value

FEW = 16  # remove_nodes deletes up to this many nodes one by one (list.index compares identities in C)


class Graph:
    """A graph in SSA form. Invariants, kept by every editing method below (and by nothing else: no module
    outside ir/ assigns `nodes`, `Value.uses` or `Value.producer`):

    - `nodes` is in topological order: every input of a node is a graph input, a constant, or an output of a node
      earlier in the list;
    - a value's `uses` lists exactly the (node, input index) pairs of the graph's nodes that read it, and a node
      output's `producer` is its node;
    - names of values and nodes are unique within the graph (`fresh_name`);
    - constant arrays are shared by reference between copies and never written: a change assigns a new array.
    """

    def __init__(self, name: str = "graph", opset_imports: dict[str, int] | None = None):
        self.name = name
        self.inputs: list[Value] = []
        self.outputs: list[Value] = []
        self.constants: dict[str, Value] = {}
        self.nodes: list[Node] = []
        self.opset_imports: dict[str, int] = dict(opset_imports or {"": 17})
        self.functions: list = []  # model-local onnx.FunctionProto, carried unchanged
        self.trained_steps = 0  # optimiser steps stitchc fine-tuned this graph's weights for (ir/fine_tune.py)
        self.unfolded: list[str] = []  # nodes constant folding left alone for their size, and why (fold.py)
        self._names: set[str] = set()
        self._counter = 0  # suffix of the next generated name

    # ----- construction -------------------------------------------------------------------
    def fresh_name(self, hint: str) -> str:
        """A value or node name not used yet in this graph, derived from `hint`."""
        name = hint
        while name in self._names:
            name = f"{hint}_{self._counter}"
            self._counter += 1
        self._names.add(name)
        return name

    def add_input(self, name: str, type: TensorType) -> Value:
        value = Value(self.fresh_name(name), type)
        self.inputs.append(value)
        return value

    def add_constant(self, name: str, array: np.ndarray) -> Value:
        array = np.asarray(array)
        value = Value(self.fresh_name(name), TensorType(array.dtype, tuple(array.shape)), const=array)
        self.constants[value.name] = value
        return value

    def add_node(
        self,
        op: str,
        inputs: Iterable[Value | None],
        output_types: Iterable[TensorType | None] | None = None,
        *,
        name: str | None = None,
        domain: str = "",
        attributes: dict[str, Any] | None = None,
        provenance: Provenance | None = None,
        output_names: Iterable[str] | None = None,
        before: Node | None = None,
    ) -> Node:
        """Adds a node at the end, or just before `before` (so a rewrite keeps the topological order without a
        global sort: its inputs must then be defined before `before`). Attribute values that are not
        `Attribute`s are typed from their Python value."""
        node_name = self.fresh_name(name or op.lower())
        types = list(output_types if output_types is not None else [None])
        names = list(output_names) if output_names is not None else [node_name] * len(types)
        outputs = [Value(self.fresh_name(n), t) for n, t in zip(names, types)]
        attrs = {k: v if isinstance(v, Attribute) else Attribute.of(v) for k, v in (attributes or {}).items()}
        node = Node(op, list(inputs), outputs, node_name, domain, attrs, provenance)
        self._attach(node)
        if before is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(self.nodes.index(before), node)
        return node

    def _attach(self, node: Node) -> None:
        for index, value in enumerate(node.inputs):
            if value is not None:
                value.uses.append((node, index))
        for value in node.outputs:
            value.producer = node

    # ----- editing ----------------------------------------------------------------------------
    def remove_node(self, node: Node) -> None:
        """Removes a node whose outputs are no longer used."""
        self.remove_nodes([node])

    def remove_nodes(self, nodes: Iterable[Node]) -> None:
        """Removes nodes whose outputs are used by none but each other (and are not graph outputs), in one pass."""
        doomed = {id(n): n for n in nodes}
        for node in doomed.values():
            for value in node.outputs:
                if value in self.outputs or any(id(user) not in doomed for user, _ in value.uses):
                    raise ValueError(f"cannot remove node {node.name}: output %{value.name} is still used")
        for node in doomed.values():
            for value in node.inputs:
                if value is not None:
                    value.uses = [(n, i) for n, i in value.uses if id(n) not in doomed]
        if len(doomed) <= FEW:  # a rewrite removes a handful: delete in place (C-speed search), no rebuild
            for node in doomed.values():
                del self.nodes[self.nodes.index(node)]
        else:
            self.nodes = [n for n in self.nodes if id(n) not in doomed]

    def remove_constant(self, value: Value) -> None:
        """Removes a constant no node reads and no graph output is."""
        if value.uses or value in self.outputs:
            raise ValueError(f"cannot remove constant %{value.name}: it is still used")
        del self.constants[value.name]

    def set_input(self, node: Node, index: int, value: Value | None) -> None:
        old = node.inputs[index]
        if old is not None:
            old.uses = [(n, i) for n, i in old.uses if not (n is node and i == index)]
        node.inputs[index] = value
        if value is not None:
            value.uses.append((node, index))

    def replace_all_uses(self, old: Value, new: Value) -> None:
        """Redirects every use of `old`, graph outputs included, to `new`."""
        for node, index in list(old.uses):
            self.set_input(node, index, new)
        self.outputs = [new if v is old else v for v in self.outputs]

    def first_user(self, value: Value) -> Node | None:
        """The earliest node in topological order that reads `value` (the place to insert a node that must come
        before every reader), or None when no node reads it."""
        readers = {id(node) for node, _ in value.uses}
        return next((node for node in self.nodes if id(node) in readers), None)

    def values(self) -> Iterable[Value]:
        yield from self.inputs
        yield from self.constants.values()
        for node in self.nodes:
            yield from node.outputs

    # ----- whole-graph operations -------------------------------------------------------------
    def toposort(self) -> None:
        """Orders nodes so every producer precedes its consumers (stable for already sorted graphs)."""
        pending = {id(n): sum(1 for v in n.inputs if v is not None and v.producer is not None) for n in self.nodes}
        position = {id(n): i for i, n in enumerate(self.nodes)}
        ready = sorted((n for n in self.nodes if pending[id(n)] == 0), key=lambda n: position[id(n)])
        order: list[Node] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for value in node.outputs:
                for user, _ in value.uses:
                    pending[id(user)] -= 1
                    if pending[id(user)] == 0:
                        ready.append(user)
            ready.sort(key=lambda n: position[id(n)])
        if len(order) != len(self.nodes):
            raise ValueError(f"graph {self.name} has a cycle")
        self.nodes = order

    def copy(self) -> Graph:
        """A structural copy; constant arrays are shared by reference, never copied."""
        other = Graph(self.name, self.opset_imports)
        other.functions = list(self.functions)
        other.trained_steps = self.trained_steps
        other._names = set(self._names)
        other._counter = self._counter  # copies name new values alike, whatever was copied before
        mapping: dict[int, Value] = {}

        def clone(value: Value) -> Value:
            twin = Value(value.name, value.type, const=value.const)
            mapping[id(value)] = twin
            return twin

        other.inputs = [clone(v) for v in self.inputs]
        other.constants = {name: clone(v) for name, v in self.constants.items()}
        for node in self.nodes:
            inputs = [None if v is None else mapping[id(v)] for v in node.inputs]
            twin = Node(
                node.op,
                inputs,
                [clone(v) for v in node.outputs],
                node.name,
                node.domain,
                dict(node.attributes),
                node.provenance,
            )
            other._attach(twin)
            other.nodes.append(twin)
        other.outputs = [mapping[id(v)] for v in self.outputs]
        return other

    # ----- conveniences that delegate to other modules -----------------------------------------
    def to_onnx(self, opset: int | None = None):
        from .onnx_lower import to_onnx

        return to_onnx(self, opset=opset)

    def to_torch(self, trainable: bool | set[str] | frozenset[str] = frozenset()):
        """A torch.fx.GraphModule computing this graph (picklable; see torch_lower.to_torch). `trainable=True`:
        every floating-point constant is an nn.Parameter; a set of constant names: those only; False: none."""
        from .torch_lower import to_torch

        return to_torch(self, trainable=trainable)

    def macs(self) -> int:
        from .cost import graph_macs

        return graph_macs(self)

    def params(self) -> int:
        from .cost import graph_params

        return graph_params(self)

    def __repr__(self) -> str:
        lines = [f"graph {self.name}({', '.join(map(repr, self.inputs))}) -> ({', '.join(map(repr, self.outputs))})"]
        lines += [f"  {node!r}" for node in self.nodes]
        return "\n".join(lines)
