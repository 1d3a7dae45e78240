"""Sparse mutation ensembles (Whitaker & Whitley 2023): one graph whose output averages its children's softmax.

Rule: draw `children` children of the graph with the sparse Gaussian mutation (its `rate`, `sigma`, `static`;
`partition = true` gives the children disjoint masks, slices of one shared permutation of each tensor). The
children live in one graph: every node that does not depend on a mutated weight is kept once and shared (its
weights stored once); the nodes downstream of a mutated weight are duplicated per child with that child's
weights. The first output becomes log(mean_i softmax(y_i)) over the last axis: scores whose softmax, and whose
exponential, is the children's mean softmax, so accuracy, top-k and the cross-entropy loss all read it as logits.
Guarantee: none (an ensemble of mutated children); exp(output) equals the mean of the children's softmax, each
child computed on its own, to float32 rounding. False when a partition slice does not fit (rate · children > 1).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node, Value

from .sparse_gaussian import perturb
from .transform_base import implementation


def mutated_children(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> list[dict] | None:
    """Per child, {(node index, input index): new constant array} for every weight its mutation replaced; None
    when a child's mutation does not apply."""
    mask_seed = int(rng.integers(2**31))
    children = []
    for child in range(params["children"]):
        copy = graph.copy()
        child_params = dict(params, child=child, mask_seed=mask_seed)
        child_params["children"] = params["children"] if params["partition"] else 1
        child_site = copy.nodes[graph.nodes.index(site)] if site is not None else None
        if not perturb(copy, child_site, child_params, np.random.default_rng([mask_seed, child])):
            return None
        children.append(
            {
                (j, k): new.const
                for j, (old_node, new_node) in enumerate(zip(graph.nodes, copy.nodes))
                for k, (old, new) in enumerate(zip(old_node.inputs, new_node.inputs))
                if old is not None and old.is_const and new.const is not old.const
            }
        )
    return children


def _dirty(graph: Graph, weights: set[tuple[int, int]]) -> list[int]:
    """Indices of the nodes that read a mutated weight or a value computed from one, in topological order."""
    dirty_values: set[int] = set()
    dirty = []
    for j, node in enumerate(graph.nodes):
        reads = any((j, k) in weights or (v is not None and id(v) in dirty_values) for k, v in enumerate(node.inputs))
        if reads:
            dirty.append(j)
            dirty_values.update(id(v) for v in node.outputs)
    return dirty


def _child_output(graph: Graph, nodes: list[Node], dirty: list[int], weights: dict, child: int) -> Value:
    """Adds one child's copy of the dirty nodes (its mutated weights in place of the parent's); returns its first
    output."""
    mapping: dict[int, Value] = {}
    for j in dirty:
        node = nodes[j]
        inputs = [
            graph.add_constant(f"{v.name}_child{child}", weights[(j, k)])
            if (j, k) in weights
            else (mapping.get(id(v), v) if v is not None else None)
            for k, v in enumerate(node.inputs)
        ]
        twin = graph.add_node(
            node.op,
            inputs,
            [v.type for v in node.outputs],
            name=f"{node.name}_child{child}",
            domain=node.domain,
            attributes=dict(node.attributes),
            provenance=node.provenance,
            output_names=[f"{v.name}_child{child}" for v in node.outputs],
        )
        mapping.update({id(old): new for old, new in zip(node.outputs, twin.outputs)})
    return mapping.get(id(graph.outputs[0]), graph.outputs[0])


def build_ensemble(graph: Graph, children: list[dict]) -> None:
    """Rewrites `graph` in place into the ensemble of `children` (mutated weights per child, as returned by
    `mutated_children`): shared clean nodes, per-child dirty nodes, output log(mean softmax)."""
    weights = set().union(*children)
    nodes, dirty = list(graph.nodes), _dirty(graph, weights)
    original = graph.outputs[0]
    outputs = [_child_output(graph, nodes, dirty, child, i) for i, child in enumerate(children)]
    kind = original.type
    probabilities = [graph.add_node("Softmax", [y], [kind], attributes={"axis": -1}).outputs[0] for y in outputs]
    mean = graph.add_node("Mean", probabilities, [kind]).outputs[0]
    scores = graph.add_node("Log", [mean], [kind], name="ensemble_scores").outputs[0]
    graph.outputs[0] = scores
    _drop_parent_copy(graph, [nodes[j] for j in dirty])


def _drop_parent_copy(graph: Graph, dirty: list[Node]) -> None:
    """Removes the parent's own dirty nodes that nothing reads any more, then the parent weights they read."""
    doomed: dict[int, Node] = {}
    for node in reversed(dirty):
        if all(v not in graph.outputs and all(id(user) in doomed for user, _ in v.uses) for v in node.outputs):
            doomed[id(node)] = node
    graph.remove_nodes(doomed.values())
    for node in doomed.values():
        for value in node.inputs:
            if value is not None and value.is_const and not value.uses and value.name in graph.constants:
                graph.remove_constant(value)


@implementation("ensemble", "mutation", "none", children=5, partition=False, rate=0.01, sigma=0.05, static=False)
def ensemble(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    children = mutated_children(graph, site, params, rng)
    if children is None:
        return False
    build_ensemble(graph, children)
    return True
