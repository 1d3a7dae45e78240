"""Candidate stitch points of a parent: the feature values a stitch may read from or write into.

A point is a node output of static float type [N, C] or [N, C, H, W] whose leading dim is the graph's batch (the
input's batch symbol, or its leading dim when the input is static: window-major [64*N, ...] tensors are not
per-sample features). Excluded, as in Guijt et al.: the
graph input, the graph output and the values feeding the node that produces the output. A value read only
by one elementwise activation is skipped in favour of the activation's output (the layer's real output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Value
from stitchc.ir.batch import input_batch
from stitchc.ir.suggest import did_you_mean
from stitchc.passes.rules.op_classes import OP_CLASSES

ACTIVATIONS = OP_CLASSES["activation"] | {"BatchNormalization"}  # a layer's output is after these
SHAPE_READERS = {"Shape", "Size"}  # read a value's shape only


@dataclass(frozen=True)
class Point:
    value: Value
    position: int  # index of the producing node in topological order

    @property
    def label(self) -> str:
        node = self.value.producer
        return node.provenance.path if node.provenance else node.name

    @property
    def channels(self) -> int:
        return self.value.type.shape[1]

    @property
    def spatial(self) -> tuple:
        """The dims after the channel dim: () for [N, C], (H, W) for NCHW."""
        return tuple(self.value.type.shape[2:])


def stitch_points(graph: Graph) -> list[Point]:
    excluded = {id(v) for v in graph.outputs} | {id(v) for v in graph.inputs}
    for output in graph.outputs:
        if output.producer is not None:
            excluded |= {id(v) for v in output.producer.inputs if v is not None}
    points, batch = [], input_batch(graph)
    for position, node in enumerate(graph.nodes):
        for value in node.outputs:
            if id(value) in excluded or not _is_feature(value, batch) or _feeds_activation_only(value):
                continue
            points.append(Point(value, position))
    return points


class PointError(Exception):
    """A named stitch point does not exist in a model or is not a feature value."""


def resolve_point(graph: Graph, path: str) -> Point:
    """The point a module path (or node name) names: the output of the last node of that module.

    'conv2' names the output of the node whose provenance path is conv2; 'layer1.0' the output of the
    last node inside layer1.0. Raises PointError naming the closest known paths.
    """
    position, node = None, None
    for index, candidate in enumerate(graph.nodes):
        module = candidate.provenance.path if candidate.provenance else candidate.name
        if module == path or module.startswith(path + ".") or candidate.name == path:
            position, node = index, candidate
    if node is None:
        known = sorted({n.provenance.path if n.provenance else n.name for n in graph.nodes})
        hint = did_you_mean(path, known)
        raise PointError(f"no node '{path}' in model {graph.name}" + (f" ({hint})" if hint else ""))
    value = node.outputs[0]
    if not _is_feature(value, input_batch(graph)):
        raise PointError(f"'{path}' produces {value.type}, not a [N, C] or [N, C, H, W] feature")
    return Point(value, position)


def _is_feature(value: Value, batch) -> bool:
    kind = value.type
    return (
        kind is not None
        and kind.rank in (2, 4)
        and np.issubdtype(kind.dtype, np.floating)
        and kind.is_static_feature()
        and (batch is None or kind.shape[0] == batch)
    )


def _feeds_activation_only(value: Value) -> bool:
    """True when one activation reads the value; Shape/Size readers (shape arithmetic that a static batch folds
    away) do not count, so a symbolic batch finds the same points as a fixed one."""
    users = [n for n in value.consumers() if n.domain or n.op not in SHAPE_READERS]
    return len(users) == 1 and users[0].op in ACTIVATIONS and users[0].inputs[0] is value
