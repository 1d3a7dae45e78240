"""Candidate stitch points of a parent: the feature values a stitch may read from or write into.

A point is a node output of static float type [N, C] or [N, C, H, W]. Excluded, as in Guijt et al.: the
graph input, the graph output and the values feeding the node that produces the output. A value read only
by one elementwise activation is skipped in favour of the activation's output (the layer's real output).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Value

ACTIVATIONS = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus",
               "Gelu", "Mish", "Clip", "PRelu", "BatchNormalization"}


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
    points = []
    for position, node in enumerate(graph.nodes):
        for value in node.outputs:
            if id(value) in excluded or not _is_feature(value) or _feeds_activation_only(value):
                continue
            points.append(Point(value, position))
    return points


def _is_feature(value: Value) -> bool:
    kind = value.type
    return (kind is not None and kind.rank in (2, 4) and np.issubdtype(kind.dtype, np.floating)
            and kind.is_static_feature())


def _feeds_activation_only(value: Value) -> bool:
    users = value.consumers()
    return len(users) == 1 and users[0].op in ACTIVATIONS and users[0].inputs[0] is value
