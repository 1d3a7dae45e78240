"""Shrink: drop the units of a Conv whose outgoing weights matter least.

Rule: on a Conv's channel path (see channel_path), remove the `units` output channels whose fan-out (the
weights the fan-in layer applies to that channel, a Conv's kernels or a Gemm's rows) has the smallest L2
norm: their filters, biases and BatchNormalization statistics, and the fan-in layer's weights for them. At
least one channel stays; ties keep the earlier channel.
Guarantee: approximate: the output changes by what the dropped channels contributed, which is zero for
channels whose fan-out is zero (so shrinking what grow_units added restores the original function exactly)
and small when their fan-out norm is small. Export and searches report it as approximate.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .channel_path import fan_in_blocks, fan_in_path, reindex_channels
from .transform_base import implementation


@implementation("shrink", "morphism", "approximate", random=False, units=1)
def shrink(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    found = fan_in_path(graph, site)
    units = int(params["units"])
    if found is None or units < 1:
        return False
    channels = site.inputs[1].const.shape[0]
    if units >= channels:
        return False
    chain, consumer = found
    blocks = fan_in_blocks(consumer, chain, channels)
    norms = np.sqrt(np.sum(np.square(blocks.reshape(channels, -1), dtype=np.float64), axis=1))
    dropped = np.argsort(norms, kind="stable")[:units]
    reindex_channels(graph, site, found, np.setdiff1d(np.arange(channels), dropped))
    return True
