"""Grow units: add output channels to a Conv whose fan-out weights are zero.

Rule: on a Conv's channel path (see channel_path), append `units` channels: fan-in filters drawn from
N(0, std of the existing filters²), zero bias, BatchNormalization statistics of an identity (γ 1, β 0,
μ 0, σ² 1), and zero weights where the fan-in layer reads them.
Guarantee: exact at insertion (the new channels contribute nothing until their fan-out is trained).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .channel_path import fan_in_blocks, fan_in_path, retype, set_fan_in_blocks
from .transform_base import implementation, replace_constant

IDENTITY_NORM = (1.0, 0.0, 0.0, 1.0)  # γ, β, μ, σ² of the BatchNormalization inputs 1..4


@implementation("grow_units", "morphism", "exact", units=4)
def grow_units(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    found = fan_in_path(graph, site)
    units = int(params["units"])
    if found is None or units < 1:
        return False
    chain, consumer = found
    weight = site.inputs[1].const
    channels = weight.shape[0]
    fresh = rng.normal(0.0, float(weight.std() or 1.0), (units, *weight.shape[1:])).astype(weight.dtype)
    replace_constant(graph, site, 1, np.concatenate([weight, fresh]))
    if len(site.inputs) > 2 and site.inputs[2] is not None:
        bias = site.inputs[2].const
        replace_constant(graph, site, 2, np.concatenate([bias, np.zeros(units, bias.dtype)]))
    retype(site, channels, channels + units)
    for node in chain:
        if node.op == "BatchNormalization":
            for index, fill in zip(range(1, 5), IDENTITY_NORM):
                array = node.inputs[index].const
                replace_constant(graph, node, index, np.concatenate([array, np.full(units, fill, array.dtype)]))
        retype(node, channels, channels + units)
    _zero_fan_in(graph, consumer, chain, channels, units)
    return True


def _zero_fan_in(graph: Graph, consumer: Node, chain: list[Node], channels: int, units: int) -> None:
    blocks = fan_in_blocks(consumer, chain, channels)
    zeros = np.zeros((units, *blocks.shape[1:]), blocks.dtype)
    set_fan_in_blocks(graph, consumer, np.concatenate([blocks, zeros]))
