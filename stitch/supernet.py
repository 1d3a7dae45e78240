"""The stitched supernetwork of several parents (Guijt et al. 2024).

Rule: all parents read one shared input. Every planned stitch (source point → target point) is an affine
map: a 1×1 convolution for [N, C, H, W] features, a linear map for [N, C]; when the spatial sizes differ by
an integer factor k it average-pools k×k before (downsampling) or upsamples nearest ×k after
(upsampling). A switch after every target point chooses its own feature or one of its incoming stitches;
an output switch chooses one parent's output or the mean of all (ensemble).
Guarantee: exact for the genome that keeps every switch on its own parent (that parent's nodes,
unchanged). Stitch weights start at zero and are set by the fitting step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Provenance, TensorType, Value
from stitchc.ir.inline import inline
from stitchc.ir.node import STITCHC_DOMAIN

from .matching import spatial_ratio
from .plan import StitchError, StitchPlan, auto_plans, check_acyclic, check_plan


@dataclass(frozen=True)
class Gene:
    name: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Stitch:
    """One built stitch: its plan, its parameters in the supernet, its output, and its resampling."""

    plan: StitchPlan
    weight: Value
    bias: Value
    output: Value
    resample: int  # k > 1: pool k×k first; k < -1: upsample ×|k| after; 1: none

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def source(self):
        return self.plan.source

    @property
    def target(self):
        return self.plan.target


@dataclass
class Supernet:
    graph: Graph
    parents: tuple[str, ...]
    genes: list[Gene]
    stitches: list[Stitch]
    output_name: str
    choices: dict[str, tuple[int, int]]  # stitch name -> (gene, option) that switches it in

    def parent_genome(self, which: int) -> tuple[int, ...]:
        """The genome that computes parent number `which` alone."""
        return tuple([0] * (len(self.genes) - 1) + [which])

    def ensemble_genome(self) -> tuple[int, ...]:
        """The mean of the parents' outputs (the one parent itself for a one-model supernet)."""
        return tuple([0] * (len(self.genes) - 1) + [len(self.parents) if len(self.parents) > 1 else 0])

    def stitch_genome(self, stitch: Stitch) -> tuple[int, ...]:
        """The genome of the target parent with this one stitch switched in."""
        gene, option = self.choices[stitch.name]
        genome = [0] * len(self.genes)
        genome[gene] = option
        genome[-1] = self.parents.index(stitch.plan.target_parent)
        return tuple(genome)


def build_supernet(parents: dict[str, Graph], plans: list[StitchPlan], resize: bool = False) -> Supernet:
    names = tuple(parents)
    _check_parents(parents)
    for plan in plans:
        check_plan(plan, resize)
    check_acyclic(parents, plans)
    first = parents[names[0]]
    opset = max(g.opset_imports.get("", 17) for g in parents.values())
    graph = Graph("_".join(names), {"": opset})
    image = graph.add_input(first.inputs[0].name, first.inputs[0].type)
    mapped = {name: inline(g, graph, [image], f"{name}/") for name, g in parents.items()}
    targets = _unique_targets(plans)
    users = {key: list(mapped[plan.target_parent][key].uses) for key, plan in targets.items()}
    stitches = [_add_stitch(graph, plan, mapped[plan.source_parent][id(plan.source.value)]) for plan in plans]
    genes, choices = [], {}
    for key, plan in targets.items():
        incoming = [s for s in stitches if id(s.target.value) == key]
        own = mapped[plan.target_parent][key]
        choices.update({s.name: (len(genes), option) for option, s in enumerate(incoming, start=1)})
        genes.append(_add_switch(graph, len(genes), own, users[key], incoming, plan))
    outputs = [mapped[name][id(parents[name].outputs[0])] for name in names]
    mean = graph.add_node(
        "Mean", outputs, [outputs[0].type], name="ensemble_mean", provenance=Provenance("stitch", "ensemble")
    )
    output_name = first.outputs[0].name
    switch = graph.add_node(
        "Switch",
        [*outputs, mean.outputs[0]],
        [outputs[0].type],
        name="switch_output",
        domain=STITCHC_DOMAIN,
        attributes={"gene": len(genes)},
        output_names=[output_name],
    )
    genes.append(Gene("output", (*names, "mean")))
    graph.outputs = [switch.outputs[0]]
    graph.opset_imports[STITCHC_DOMAIN] = 1
    graph.toposort()
    return Supernet(graph, names, genes, stitches, output_name, choices)


def model_supernet(name: str, model: Graph) -> Supernet:
    """The supernet of a search over one model: the model itself (a copy), its only gene the output, which
    has one option; program genes do all the searching."""
    graph = model.copy()
    graph.name = name
    return Supernet(graph, (name,), [Gene("output", (name,))], [], graph.outputs[0].name, {})


def _check_parents(parents: dict[str, Graph]) -> None:
    if len(parents) < 2:
        raise StitchError("stitching needs at least two models")
    for name, graph in parents.items():
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise StitchError(
                f"model {name} must have one input and one output (has {len(graph.inputs)} and {len(graph.outputs)})"
            )
    (name_a, a), *others = parents.items()
    for name_b, b in others:
        in_a, in_b = a.inputs[0].type, b.inputs[0].type
        if in_a.feature_shape() != in_b.feature_shape() or in_a.dtype != in_b.dtype:
            raise StitchError(f"models {name_a} and {name_b} read different inputs: {in_a} vs {in_b}")
        out_a, out_b = a.outputs[0].type, b.outputs[0].type
        if out_a.feature_shape() != out_b.feature_shape():
            raise StitchError(f"models {name_a} and {name_b} have different outputs: {out_a} vs {out_b}")


def _unique_targets(plans: list[StitchPlan]) -> dict[int, StitchPlan]:
    """The first plan per target point, in plan order (one switch per target point)."""
    targets: dict[int, StitchPlan] = {}
    for plan in plans:
        targets.setdefault(id(plan.target.value), plan)
    return targets


def _add_stitch(graph: Graph, plan: StitchPlan, reads: Value) -> Stitch:
    source, target = plan.source, plan.target
    c_in, c_out = source.channels, target.channels
    provenance = Provenance("stitch", plan.name)
    ratio = spatial_ratio(source, target)
    down = source.spatial and source.spatial[0] > target.spatial[0]
    resample = ratio if down else (-ratio if ratio > 1 else 1)
    batch, dtype = source.value.type.shape[0], source.value.type.dtype
    if resample > 1:
        pooled = TensorType(dtype, (batch, c_in, *target.spatial))
        reads = graph.add_node(
            "AveragePool",
            [reads],
            [pooled],
            name=f"{plan.name}.pool",
            provenance=provenance,
            attributes={"kernel_shape": [ratio, ratio], "strides": [ratio, ratio]},
        ).outputs[0]
    if source.spatial:
        weight = graph.add_constant(f"{plan.name}.weight", np.zeros((c_out, c_in, 1, 1), np.float32))
        bias = graph.add_constant(f"{plan.name}.bias", np.zeros(c_out, np.float32))
        out_type = TensorType(dtype, (batch, c_out, *source.spatial)) if resample < -1 else target.value.type
        node = graph.add_node(
            "Conv",
            [reads, weight, bias],
            [out_type],
            name=plan.name,
            attributes={"kernel_shape": [1, 1]},
            provenance=provenance,
        )
    else:
        weight = graph.add_constant(f"{plan.name}.weight", np.zeros((c_out, c_in), np.float32))
        bias = graph.add_constant(f"{plan.name}.bias", np.zeros(c_out, np.float32))
        node = graph.add_node(
            "Gemm",
            [reads, weight, bias],
            [target.value.type],
            name=plan.name,
            attributes={"transB": 1},
            provenance=provenance,
        )
    output = node.outputs[0]
    if resample < -1:
        scales = graph.add_constant(f"{plan.name}.scales", np.array([1, 1, ratio, ratio], np.float32))
        output = graph.add_node(
            "Resize",
            [output, None, scales],
            [target.value.type],
            name=f"{plan.name}.upsample",
            attributes={
                "mode": "nearest",
                "coordinate_transformation_mode": "asymmetric",
                "nearest_mode": "floor",
            },  # target pixel (h, w) reads (h//k, w//k)
            provenance=provenance,
        ).outputs[0]
    return Stitch(plan, weight, bias, output, resample)


def _add_switch(graph: Graph, gene: int, own: Value, users: list, incoming: list[Stitch], plan: StitchPlan) -> Gene:
    label = f"{plan.target_parent}.{plan.target.label}"
    switch = graph.add_node(
        "Switch",
        [own, *[s.output for s in incoming]],
        [own.type],
        name=f"switch_{label}",
        domain=STITCHC_DOMAIN,
        attributes={"gene": gene},
    )
    for node, index in users:
        graph.set_input(node, index, switch.outputs[0])
    options = (plan.target_parent, *[f"from {s.plan.source_parent}.{s.source.label}" for s in incoming])
    return Gene(label, options)


def auto_supernet(parents: dict[str, Graph], resize: bool = False) -> Supernet:
    """The supernet of two parents with automatically matched points (both directions per pair)."""
    left, right = parents
    return build_supernet(parents, auto_plans(left, right, parents, resize=resize), resize)
