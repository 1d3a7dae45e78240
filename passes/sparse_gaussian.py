"""Sparse Gaussian mutation (Whitaker & Whitley 2023), with an exact mask density.

Rule: child = θ + m ⊙ ε for the weights (input 1) of every Conv, Gemm and MatMul, or of the chosen layer only:
m a mask setting exactly ⌈rate · |θ|⌉ entries of each tensor θ, ε ~ N(0, (sigma · std θ)²), the noise scaled
to each tensor so one `sigma` fits every layer. `gaussian` is the dense case (rate 1).
Masks: dynamic by default (drawn from the step's generator); `static = true` draws them from a fixed seed, so
repeated steps (generations) mutate the same entries. An ensemble partitions the masks (`child`, `children`,
`mask_seed`): every child takes its own slice of one shared permutation of each tensor, so children are disjoint.
Guarantee: none for the function (it changes; that is the point); exactly ⌈rate · |θ|⌉ entries of each chosen
tensor differ from the parent's (a draw that rounds back to the old float32 value is moved one ulp), and every
other weight is bit-identical.
"""

from __future__ import annotations

import math

import numpy as np

from stitchc.ir import Graph, Node

from .transform_base import implementation, replace_constant

WEIGHTED = ("Conv", "ConvTranspose", "Gemm", "MatMul")
STATIC_SEED = 20230415  # the seed of static masks (any fixed number)


def weight_nodes(graph: Graph, site: Node | None) -> list[Node]:
    """The nodes whose weights (input 1, a floating-point constant) a Gaussian mutation changes."""
    nodes = [site] if site is not None else [n for n in graph.nodes if n.op in WEIGHTED]
    return [
        n
        for n in nodes
        if len(n.inputs) > 1
        and n.inputs[1] is not None
        and n.inputs[1].is_const
        and np.issubdtype(n.inputs[1].const.dtype, np.floating)
    ]


def mask_count(size: int, rate: float) -> int:
    """How many entries of a tensor of `size` entries a mask of density `rate` sets: ⌈rate · size⌉ (at most size)."""
    return min(size, math.ceil(rate * size - 1e-9))


def mask_indices(size: int, rate: float, rng: np.random.Generator, child: int = 0) -> np.ndarray | None:
    """The flat indices of a mask: slice `child` of a permutation of range(size) drawn from `rng` (slices of one
    permutation are disjoint); None when that slice does not fit in the tensor."""
    count = mask_count(size, rate)
    if (child + 1) * count > size:
        return None
    return rng.permutation(size)[child * count : (child + 1) * count]


def mutated(array: np.ndarray, indices: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of `array` with Gaussian noise (std sigma · std array) added at the flat `indices`; each of those
    entries is guaranteed to differ from the original."""
    flat = array.reshape(-1).copy()
    noise = rng.normal(0.0, sigma * float(array.std() or 1.0), len(indices))
    old = flat[indices]
    new = (old + noise).astype(array.dtype)
    flat[indices] = np.where(new == old, np.nextafter(old, np.inf, dtype=array.dtype), new)
    return flat.reshape(array.shape)


def perturb(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    """Applies the mutation in place (see the module docstring for `params`); False when no weight changed or a
    partition slice does not fit."""
    rate, child, partitioned = params["rate"], params.get("child", 0), params.get("children", 1) > 1
    mask_rng = rng
    if partitioned or params.get("static", False):
        base = STATIC_SEED if params.get("static", False) else params.get("mask_seed", 0)
        mask_rng = np.random.default_rng([base, 0 if partitioned else child, int(partitioned)])
    nodes = weight_nodes(graph, site)
    masks = [mask_indices(n.inputs[1].const.size, rate, mask_rng, child if partitioned else 0) for n in nodes]
    if any(indices is None for indices in masks):
        return False
    for node, indices in zip(nodes, masks):
        replace_constant(graph, node, 1, mutated(node.inputs[1].const, indices, params["sigma"], rng))
    return any(len(indices) for indices in masks)


@implementation("sparse_gaussian", "mutation", "none", rate=0.01, sigma=0.05, static=False)
def sparse_gaussian(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    return perturb(graph, site, params, rng)


@implementation("gaussian", "mutation", "none", sigma=0.01)
def gaussian(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    return perturb(graph, site, {"rate": 1.0, "sigma": params["sigma"]}, rng)
