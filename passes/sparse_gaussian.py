"""Sparse Gaussian mutation (Whitaker & Whitley 2023).

Rule: child = θ + m ⊙ ε for the weights (input 1) of every Conv, Gemm and MatMul, or of the chosen
layer only: m a random mask of density `rate`, ε ~ N(0, (sigma · std θ)²), the noise scaled to each
tensor so one `sigma` fits every layer. `gaussian` is the dense case (rate 1).
Guarantee: none (the function changes; that is the point).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .transform_base import implementation, replace_constant

WEIGHTED = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def _perturb(graph: Graph, site: Node | None, rate: float, sigma: float, rng: np.random.Generator) -> bool:
    nodes = [site] if site is not None else [n for n in graph.nodes if n.op in WEIGHTED]
    changed = False
    for node in nodes:
        weight = node.inputs[1] if len(node.inputs) > 1 else None
        if weight is None or not weight.is_const or not np.issubdtype(weight.const.dtype, np.floating):
            continue
        array = weight.const
        mask = rng.random(array.shape) < rate
        noise = rng.normal(0.0, sigma * float(array.std() or 1.0), array.shape)
        replace_constant(graph, node, 1, (array + mask * noise).astype(array.dtype))
        changed = changed or bool(mask.any())
    return changed


@implementation("sparse_gaussian", "mutation", "none", rate=0.01, sigma=0.05)
def sparse_gaussian(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    return _perturb(graph, site, params["rate"], params["sigma"], rng)


@implementation("gaussian", "mutation", "none", sigma=0.01)
def gaussian(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    return _perturb(graph, site, 1.0, params["sigma"], rng)
