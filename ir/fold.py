"""Constant folding: nodes that compute only from constants become constants (weights made by subgraphs).

Rule: `Shape` of a value whose shape is fully static becomes an int64 constant; every other standard-domain,
deterministic node without subgraph attributes whose inputs are all constants (or outputs of such nodes) is
evaluated, all of them in one ONNX Runtime session, and the values other nodes or the graph outputs read
become constants under their own names. Guarantee: exact (ONNX Runtime computes the values it would have
computed at inference). When ONNX Runtime cannot run the constant part the graph is left unchanged.

Budget (size_budget.py): a node is folded only when ONNX shape inference, run afresh on the constant part
(the types the file declares are not trusted), bounds each of its outputs within FOLD_BUDGET (64 MiB), and
while the folded results together stay within FOLD_TOTAL (1 GiB); so nothing is allocated that was not
bounded first. Each node left unfolded for its size (and every node depending on it) stays a node, and is
said in `graph.unfolded` ("node huge (ConstantOfShape): 1,000,000,000 elements, 3.73 GiB > fold budget 64 MiB").

We fold ourselves rather than through onnx-graphsurgeon's `fold_constants` so that value names,
provenance and opaque types are never round-tripped through a second IR.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .graph import Graph
from .node import Node
from .size_budget import FOLD_BUDGET, FOLD_TOTAL, SHAPE_DATA, inferred_bytes
from .subgraphs import has_subgraphs
from .types import TensorType, value_info
from .value import Value

NONDETERMINISTIC = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
    "Dropout",
}


def fold_constants(graph: Graph) -> int:
    """Folds what can be folded within the budget, in rounds: a node whose size depends on values computed in
    a round (a Range whose limit comes from a Shape chain) is sized in the next. Returns the nodes removed;
    `graph.unfolded` says what the last round refused."""
    said, removed, spent = list(graph.unfolded), 0, [0]  # spent: bytes folded so far, against FOLD_TOTAL
    while True:
        graph.unfolded = list(said)  # refusals of an earlier round may be folded in this one
        folded = _fold_round(graph, spent)
        removed += folded
        if not folded:
            return removed


def _fold_round(graph: Graph, spent: list[int]) -> int:
    removed = _fold_static_shapes(graph)
    candidates = _candidates(graph)
    if not candidates:
        return removed
    outputs = [v for n in candidates for v in n.outputs if v.name]
    sizes = inferred_bytes(_fold_model(graph, candidates, outputs, SHAPE_DATA))
    foldable = _within_budget(graph, candidates, sizes, spent)
    if not foldable:
        return removed
    wanted = _boundary(graph, foldable)
    arrays = _evaluate(graph, foldable, wanted)
    if arrays is None:
        return removed
    for value, array in zip(wanted, arrays):
        _make_constant(graph, value, array)
    _drop(graph, foldable)
    return removed + len(foldable)


def _fold_static_shapes(graph: Graph) -> int:
    shapes = [n for n in graph.nodes if n.op == "Shape" and not n.domain and _static_shape(n.inputs[0])]
    for node in shapes:
        dims = np.array(node.inputs[0].type.shape, dtype=np.int64)
        start, end = node.attr("start", 0), node.attr("end", len(dims))
        _make_constant(graph, node.outputs[0], dims[start:end])
    _drop(graph, shapes)
    return len(shapes)


def _static_shape(value: Value) -> bool:
    return (
        isinstance(value.type, TensorType)
        and value.type.shape is not None
        and all(isinstance(d, int) for d in value.type.shape)
    )


def _candidates(graph: Graph) -> list[Node]:
    """Standard, deterministic nodes without subgraphs that compute only from constants and other candidates."""
    computed: set[int] = set()
    nodes = []
    for node in graph.nodes:
        inputs = [v for v in node.inputs if v is not None]
        if (
            node.domain
            or node.op in NONDETERMINISTIC
            or not inputs
            or has_subgraphs(node)
            or not all(v.is_const or id(v) in computed for v in inputs)
        ):
            continue
        nodes.append(node)
        computed.update(id(v) for v in node.outputs)
    return nodes


def _within_budget(graph: Graph, candidates: list[Node], sizes: dict[str, int | None], spent: list[int]) -> list[Node]:
    """The candidates whose results `sizes` (inferred, never declared) bound within the budget, and whose inputs
    are constants or such results; each refused for its own size is recorded in `graph.unfolded`. `spent[0]`,
    the bytes folded by earlier rounds, grows by what these add."""
    kept: set[int] = set()
    nodes, total = [], spent[0]
    for node in candidates:
        if not all(v.is_const or id(v) in kept for v in node.inputs if v is not None):
            continue
        size, refusal = _result_size(node, [sizes.get(v.name) for v in node.outputs if v.name], total)
        if refusal:
            said = f"node {node.name} ({node.op}): {refusal}"
            graph.unfolded += [said] if said not in graph.unfolded else []  # folding may run again (passes)
            continue
        nodes.append(node)
        total += size
        kept.update(id(v) for v in node.outputs)
    spent[0] = total
    return nodes


def _result_size(node: Node, sizes: list[int | None], total: int) -> tuple[int, str | None]:
    """(bytes of the node's outputs, why they may not be computed or None)."""
    named = [v for v in node.outputs if v.name]
    if any(size is None for size in sizes):
        return 0, f"size of '{named[sizes.index(None)].name}' unknown before computing it"
    largest = max(sizes, default=0)
    if largest > FOLD_BUDGET:
        return 0, f"{_elements(named[sizes.index(largest)], largest)} > fold budget {_bytes(FOLD_BUDGET)}"
    if total + sum(sizes) > FOLD_TOTAL:
        return 0, f"folded results would exceed {_bytes(FOLD_TOTAL)} in all"
    return sum(sizes), None


def _elements(value: Value, size: int) -> str:
    itemsize = value.type.dtype.itemsize if isinstance(value.type, TensorType) else 0
    return f"{size // itemsize:,} elements, {_bytes(size)}" if itemsize else _bytes(size)


def _bytes(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def _boundary(graph: Graph, foldable: list[Node]) -> list[Value]:
    """Outputs of folded nodes that an unfolded node or a graph output reads."""
    inside = {id(n) for n in foldable}
    outputs = {id(v) for v in graph.outputs}
    return [
        v
        for n in foldable
        for v in n.outputs
        if v.name and (id(v) in outputs or any(id(user) not in inside for user, _ in v.uses))
    ]


def _evaluate(graph: Graph, nodes: list[Node], wanted: list[Value]) -> list[np.ndarray] | None:
    from .runtime import session

    try:
        return session(_fold_model(graph, nodes, wanted)).run(None, {})
    except Exception:  # ORT rejects constant parts it cannot run in many ways; folding is then skipped
        return None


def _fold_model(graph: Graph, nodes: list[Node], outputs: list[Value], inline: int | None = None) -> onnx.ModelProto:
    """A model of `nodes` alone, their constants as initializers, `outputs` untyped. With `inline`, constants larger
    than that many bytes are typed inputs instead (shape inference needs the values of shape-like tensors only)."""
    constants = {id(v): v for n in nodes for v in n.inputs if v is not None and v.is_const}
    small = [v for v in constants.values() if inline is None or v.const.nbytes <= inline]
    large = [v for v in constants.values() if inline is not None and v.const.nbytes > inline]
    protos = [
        helper.make_node(n.op, ["" if v is None else v.name for v in n.inputs], [v.name for v in n.outputs])
        for n in nodes
    ]
    for proto, node in zip(protos, nodes):
        proto.attribute.extend(a.to_onnx(k) for k, a in node.attributes.items())
    body = helper.make_graph(
        protos,
        "fold",
        [value_info(v.name, v.type) for v in large],
        [value_info(v.name, None) for v in outputs],
        [numpy_helper.from_array(v.const, v.name) for v in small],
    )
    opsets = [helper.make_opsetid(d, v) for d, v in graph.opset_imports.items()]
    model = helper.make_model(body, opset_imports=opsets)
    model.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    return model


def _make_constant(graph: Graph, value: Value, array: np.ndarray) -> None:
    array = np.asarray(array)
    value.const, value.producer = array, None
    value.type = TensorType(array.dtype, tuple(array.shape))
    graph.constants[value.name] = value


def _drop(graph: Graph, nodes: list[Node]) -> None:
    gone = {id(n) for n in nodes}
    for node in nodes:
        for value in node.inputs:
            if value is not None:
                value.uses = [(n, i) for n, i in value.uses if id(n) not in gone]
    graph.nodes = [n for n in graph.nodes if id(n) not in gone]
