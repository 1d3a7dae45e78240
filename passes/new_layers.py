"""New layers that morphisms insert: convolutions built from arrays, the block a skip spans, and splicing a
replacement value in front of every reader of another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Node, Provenance, TensorType, Value

from .transform_base import single_consumer

ACTIVATIONS = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus"}


def provenance_of(site: Node, suffix: str) -> Provenance:
    """The provenance of a node a morphism adds at `site`: the site's parent, a path naming the morphism."""
    return Provenance(site.provenance.parent if site.provenance else "morphism", f"{site.name}.{suffix}")


def block_output(site: Node | None) -> Value | None:
    """The value a block ends in: a Conv site's activation when that is its only reader, else the Conv's own
    output; None unless the site is a Conv on [N, C, H, W] values with integer C, H, W."""
    if site is None or site.op != "Conv" or not all(_spatial(v) for v in (site.inputs[0], site.outputs[0])):
        return None
    after = single_consumer(site)
    if after is not None and after.op in ACTIVATIONS and after.inputs[0] is site.outputs[0]:
        return after.outputs[0]
    return site.outputs[0]


def _spatial(value: Value) -> bool:
    shape = value.type.shape if value.type is not None else None
    return shape is not None and len(shape) == 4 and all(isinstance(d, int) for d in shape[1:])


@dataclass(frozen=True)
class Inserter:
    """Adds the nodes of one morphism before one node: named `name.SUFFIX`, with one provenance."""

    graph: Graph
    name: str
    provenance: Provenance
    before: Node | None

    def node(self, op: str, inputs: list[Value], type: TensorType, suffix: str, **attributes) -> Value:
        node = self.graph.add_node(
            op,
            inputs,
            [type],
            name=f"{self.name}.{suffix}",
            provenance=self.provenance,
            attributes=attributes,
            before=self.before,
        )
        return node.outputs[0]

    def conv(self, x: Value, weight: np.ndarray, bias: np.ndarray, shape: tuple, suffix: str, **attributes) -> Value:
        """A Conv of `x` with these weight and bias arrays and output shape `shape`."""
        constants = [
            self.graph.add_constant(f"{self.name}.{suffix}.{k}", a) for k, a in (("weight", weight), ("bias", bias))
        ]
        type = TensorType(x.type.dtype, tuple(shape))
        return self.node("Conv", [x, *constants], type, suffix, kernel_shape=list(weight.shape[2:]), **attributes)


def splice(graph: Graph, value: Value, site: Node, suffix: str, build: Callable[[Inserter], Value]) -> Value:
    """Builds a replacement of `value` with the nodes `build` adds (before the first reader of `value`, named
    and traced after `site`) and makes every reader of `value` and every graph output that was `value` read
    it instead; the nodes `build` added keep reading `value`."""
    readers = list(value.uses)
    inserter = Inserter(graph, f"{site.name}.{suffix}", provenance_of(site, suffix), graph.first_user(value))
    new = build(inserter)
    for node, index in readers:
        graph.set_input(node, index, new)
    graph.outputs = [new if v is value else v for v in graph.outputs]
    return new
