"""Decode a genome into a standalone candidate graph: resolve every switch, then prune what is unused."""

from __future__ import annotations

from stitchc.ir import Graph
from stitchc.ir.node import STITCHC_DOMAIN
from stitchc.passes.dce import DeadCodeElimination

from .supernet import Supernet

Genome = tuple[int, ...]


def _is_switch(node) -> bool:
    return node.domain == STITCHC_DOMAIN and node.op == "Switch"


def decode(supernet: Supernet, genome: Genome) -> Graph:
    """A copy of the supernet with each switch replaced by the input its gene selects, pruned by DCE."""
    graph = supernet.graph.copy()
    for node in [n for n in graph.nodes if _is_switch(n)]:
        chosen = node.inputs[genome[node.attr("gene")]]
        output = node.outputs[0]
        graph.replace_all_uses(output, chosen)
    DeadCodeElimination()(graph)
    graph.outputs[0].name = supernet.output_name
    return graph


def canonical(supernet: Supernet, genome: Genome) -> Genome:
    """The genome with every gene that does not reach the output set to 0 (same decoded graph)."""
    active: set[int] = set()
    stack = [supernet.graph.outputs[0].producer]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        inputs = node.inputs
        if _is_switch(node):
            gene = node.attr("gene")
            active.add(gene)
            inputs = [node.inputs[genome[gene]]]
        stack.extend(v.producer for v in inputs if v is not None)
    return tuple(g if i in active else 0 for i, g in enumerate(genome))
