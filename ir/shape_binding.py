"""Bind the dims ONNX shape inference leaves unknown, by running the graph once or twice with ONNX Runtime.

Shape inference loses static dims behind shape arithmetic it does not propagate (Div, Mod or Cast of a
`Shape` output: shufflenet's channel shuffle, swin's window padding, timm's attention reshapes) and even the
batch symbol behind Expand/Concat (a ViT's class token). The dims of the declared input fix all of them, so:
every value whose shape is incomplete (a dim that is neither an int nor the batch symbol, or no shape)
becomes an extra output, and the graph runs on random inputs at batch 1 and 2 (the batch symbol bound to
each in turn), or once at its declared shape when every input dim is static. A dim equal at both batch
sizes becomes that int; a dim equal to k times the batch at both becomes the symbol ('N', k = 1) or 'k*N'.
Any other dim keeps what inference said.

Guarantee: every bound dim is the one ONNX Runtime computes at batch 1 and 2, hence at every batch when the
graph's shape arithmetic is affine in the batch (every feed-forward vision network). Graphs whose shapes may
depend on the inputs' values (see `_shapes_follow_data`), whose inputs declare other symbols, or that ONNX
Runtime cannot run are left as inferred, and so are graphs with an input or a value whose type gives more
than PROBE_BUDGET bytes at batch 2, or a node constant folding left unfolded (size_budget.py: a few bytes of
ONNX can declare a huge tensor). Peak memory is that of the incomplete values at batch 2.
"""

from __future__ import annotations

import numpy as np
from onnx import helper

from .batch import batch_multiple, input_batch
from .graph import Graph
from .size_budget import PROBE_BUDGET, static_bytes
from .subgraphs import has_subgraphs
from .types import Dim, TensorType
from .value import Value

PROBE_BATCHES = (1, 2)
DATA_DEPENDENT = {"NonZero", "Unique", "Compress", "NonMaxSuppression", "StringSplit"}  # output shapes follow data


def bind_shapes(graph: Graph) -> int:
    """Binds what can be bound (see the module doc); returns the number of values whose type changed."""
    batch = input_batch(graph)
    pending = [v for n in graph.nodes for v in n.outputs if v.name and _incomplete(v, batch)]
    if not pending or batch is None or graph.unfolded or _shapes_follow_data(graph) or _too_large(graph):
        return 0
    sizes = PROBE_BATCHES if isinstance(batch, str) else (None,)
    measured = _measure(graph, pending, batch, sizes)
    if measured is None:
        return 0
    changed = 0
    for value, arrays in zip(pending, measured):
        bound = _bind(value.type, [a.shape for a in arrays], sizes, batch)
        if value.type is None or value.type.shape != bound:
            value.type = TensorType(np.dtype(arrays[0].dtype), bound)
            changed += 1
    return changed


def _shapes_follow_data(graph: Graph) -> bool:
    """True when a shape may depend on the values of the inputs, not only on their shapes: a data-dependent op
    (NonZero, ...), control flow, or an integer value computed from input values (it may be a Reshape target,
    Slice bounds, a Range limit), or Resize/Upsample scales computed from them. Shape and Size read shapes only."""
    from_data = {id(v) for v in graph.inputs}
    for node in graph.nodes:
        if node.op in DATA_DEPENDENT or has_subgraphs(node):
            return True
        read = [i for i, v in enumerate(node.inputs) if v is not None and id(v) in from_data]
        if not read or node.op in ("Shape", "Size"):
            continue
        if node.op in ("Resize", "Upsample") and max(read) > 0:
            return True
        for value in node.outputs:
            from_data.add(id(value))
            if value.type is None or value.type.dtype is None or np.issubdtype(value.type.dtype, np.integer):
                return True
    return any(np.issubdtype(v.type.dtype, np.integer) for v in graph.inputs if v.type is not None)


def _too_large(graph: Graph) -> bool:
    """True when an input or a value whose size its type gives exceeds PROBE_BUDGET at batch 2."""
    values = [*graph.inputs, *(v for node in graph.nodes for v in node.outputs)]
    return any((static_bytes(v, batch=max(PROBE_BATCHES)) or 0) > PROBE_BUDGET for v in values)


def _incomplete(value: Value, batch: Dim) -> bool:
    kind = value.type
    if kind is None:
        return True
    if not isinstance(kind, TensorType):
        return False  # sequences, maps: nothing to bind
    return kind.shape is None or any(not isinstance(d, int) and d != batch for d in kind.shape)


def _measure(graph: Graph, pending: list[Value], batch: Dim, sizes) -> list[list[np.ndarray]] | None:
    """Per pending value, its array at each probe size; None when ONNX Runtime cannot run the graph."""
    from .runtime import session

    model = graph.to_onnx()
    listed = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.make_empty_tensor_value_info(v.name) for v in pending if v.name not in listed)
    names = [v.name for v in pending]
    rng = np.random.default_rng(0)
    try:
        probe = session(model, threads=0)
        runs = [probe.run(names, _inputs(graph, batch, size, rng)) for size in sizes]
    except Exception:  # noqa: BLE001  (ORT refuses graphs in many ways: binding is then skipped)
        return None
    return [list(arrays) for arrays in zip(*runs)]


def _inputs(graph: Graph, batch: Dim, size: int | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for value in graph.inputs:
        shape = [size if d == batch and size is not None else d for d in value.type.shape]
        dtype = np.dtype(value.type.dtype)
        feeds[value.name] = (
            rng.normal(size=shape).astype(dtype) if np.issubdtype(dtype, np.floating) else np.zeros(shape, dtype)
        )
    return feeds


def _bind(kind: TensorType | None, shapes: list[tuple], sizes, batch: Dim) -> tuple:
    first = shapes[0]
    old = kind.shape if kind is not None and kind.shape is not None and len(kind.shape) == len(first) else None
    if any(len(s) != len(first) for s in shapes):
        return old if old is not None else tuple(None for _ in first)
    dims = []
    for axis, measured in enumerate(zip(*shapes)):
        known = old[axis] if old is not None else None
        dims.append(known if isinstance(known, int) or known == batch else _dim(measured, sizes, batch, known))
    return tuple(dims)


def _dim(measured: tuple[int, ...], sizes, batch: Dim, fallback: Dim) -> Dim:
    if len(set(measured)) == 1:
        return int(measured[0])
    factors = {m // s for m, s in zip(measured, sizes) if m % s == 0}
    if len(factors) == 1 and all(m % s == 0 for m, s in zip(measured, sizes)):
        factor = factors.pop()
        return batch_multiple(factor, batch) if factor > 0 else fallback
    return fallback
