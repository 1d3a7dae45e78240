"""The stitched supernetwork of two parents (Guijt et al. 2024).

Rule: both parents read one shared input. For every matched pair (a, b) two affine stitches are added,
A→B (reads a, typed like b) and B→A; a switch after a chooses between a and stitch(b), a switch after b
between b and stitch(a). An output switch chooses parent A's output, B's, or their mean (ensemble).
Guarantee: exact for the genome that keeps every switch on its own parent (that parent's nodes, unchanged).
Stitches are 1×1 convolutions for [N, C, H, W] features and linear maps for [N, C]; their weights start
at zero and are set by the fitting step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Provenance, Value
from stitchc.ir.inline import inline

from .matching import match
from .stitch_points import Point, stitch_points

SWITCH_DOMAIN = "stitchc"


class StitchError(Exception):
    pass


@dataclass(frozen=True)
class Gene:
    name: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Stitch:
    """One affine stitch: reads `source` (a point of one parent), replaces `target` (a point of the other)."""

    name: str
    source: Point
    target: Point
    weight: Value
    bias: Value
    output: Value

    @property
    def spatial(self) -> bool:
        return len(self.source.spatial) > 0


@dataclass
class Supernet:
    graph: Graph
    parents: tuple[str, str]
    genes: list[Gene]
    stitches: list[Stitch]
    output_name: str

    def parent_genome(self, which: int) -> tuple[int, ...]:
        """The genome that computes parent `which` (0 = A, 1 = B) alone."""
        return tuple([0] * (len(self.genes) - 1) + [which])

    def ensemble_genome(self) -> tuple[int, ...]:
        return tuple([0] * (len(self.genes) - 1) + [2])


def build_supernet(graph_a: Graph, graph_b: Graph, names: tuple[str, str] = ("a", "b"),
                   pairs: list[tuple[Point, Point]] | None = None) -> Supernet:
    _check_compatible(graph_a, graph_b, names)
    if pairs is None:
        pairs = match(stitch_points(graph_a), stitch_points(graph_b))
    opset = max(graph_a.opset_imports.get("", 17), graph_b.opset_imports.get("", 17))
    graph = Graph(f"{names[0]}_{names[1]}", {"": opset})
    image = graph.add_input(graph_a.inputs[0].name, graph_a.inputs[0].type)
    map_a = inline(graph_a, graph, [image], f"{names[0]}/")
    map_b = inline(graph_b, graph, [image], f"{names[1]}/")
    genes, stitches = [], []
    for index, (a, b) in enumerate(pairs):
        value_a, value_b = map_a[id(a.value)], map_b[id(b.value)]
        users_a, users_b = list(value_a.uses), list(value_b.uses)
        into_b = _add_stitch(graph, f"{names[0]}.{a.label}->{names[1]}.{b.label}", a, b, value_a)
        into_a = _add_stitch(graph, f"{names[1]}.{b.label}->{names[0]}.{a.label}", b, a, value_b)
        stitches += [into_b, into_a]
        genes.append(_add_switch(graph, len(genes), value_a, users_a, into_a, f"{names[0]}.{a.label}", names[0]))
        genes.append(_add_switch(graph, len(genes), value_b, users_b, into_b, f"{names[1]}.{b.label}", names[1]))
    out_a, out_b = map_a[id(graph_a.outputs[0])], map_b[id(graph_b.outputs[0])]
    mean = graph.add_node("Mean", [out_a, out_b], [out_a.type], name="ensemble_mean",
                          provenance=Provenance("stitch", "ensemble"))
    output_name = graph_a.outputs[0].name
    switch = graph.add_node("Switch", [out_a, out_b, mean.outputs[0]], [out_a.type], name="switch_output",
                            domain=SWITCH_DOMAIN, attributes={"gene": len(genes)}, output_names=[output_name])
    genes.append(Gene("output", (names[0], names[1], "mean")))
    graph.outputs = [switch.outputs[0]]
    graph.opset_imports[SWITCH_DOMAIN] = 1
    graph.toposort()
    return Supernet(graph, names, genes, stitches, output_name)


def _check_compatible(graph_a: Graph, graph_b: Graph, names: tuple[str, str]) -> None:
    for graph, name in zip((graph_a, graph_b), names):
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise StitchError(f"model {name} must have one input and one output "
                              f"(has {len(graph.inputs)} and {len(graph.outputs)})")
    shape_a, shape_b = graph_a.inputs[0].type, graph_b.inputs[0].type
    if shape_a.feature_shape() != shape_b.feature_shape() or shape_a.dtype != shape_b.dtype:
        raise StitchError(f"models {names[0]} and {names[1]} read different inputs: {shape_a} vs {shape_b}")
    out_a, out_b = graph_a.outputs[0].type, graph_b.outputs[0].type
    if out_a.feature_shape() != out_b.feature_shape():
        raise StitchError(f"models {names[0]} and {names[1]} have different outputs: {out_a} vs {out_b}")


def _add_stitch(graph: Graph, name: str, source: Point, target: Point, reads: Value) -> Stitch:
    c_in, c_out = source.channels, target.channels
    provenance = Provenance("stitch", name)
    if source.spatial:
        weight = graph.add_constant(f"{name}.weight", np.zeros((c_out, c_in, 1, 1), np.float32))
        bias = graph.add_constant(f"{name}.bias", np.zeros(c_out, np.float32))
        node = graph.add_node("Conv", [reads, weight, bias], [target.value.type], name=name,
                              attributes={"kernel_shape": [1, 1]}, provenance=provenance)
    else:
        weight = graph.add_constant(f"{name}.weight", np.zeros((c_out, c_in), np.float32))
        bias = graph.add_constant(f"{name}.bias", np.zeros(c_out, np.float32))
        node = graph.add_node("Gemm", [reads, weight, bias], [target.value.type], name=name,
                              attributes={"transB": 1}, provenance=provenance)
    return Stitch(name, source, target, weight, bias, node.outputs[0])


def _add_switch(graph: Graph, gene: int, own: Value, users: list, stitch: Stitch, label: str, parent: str) -> Gene:
    switch = graph.add_node("Switch", [own, stitch.output], [own.type], name=f"switch_{label}",
                            domain=SWITCH_DOMAIN, attributes={"gene": gene})
    for node, index in users:
        graph.set_input(node, index, switch.outputs[0])
    return Gene(label, (parent, f"from {stitch.name.split('->')[0]}"))
