"""Net2WiderNet (Chen et al. 2016): widen a Conv's output channels by an integer factor.

Rule: for a Conv (group 1) whose output reaches exactly one fan-in layer through channel-wise ops
(activations, pooling, BatchNormalization, Identity, Dropout), the new units j ≥ C copy unit g(j) drawn
at random from the C old ones: the conv's filters and bias and the BatchNormalization statistics are
replicated by g, and the fan-in layer's input channels (a Conv, or a Flatten → Gemm) are replicated and
divided by the number of copies of each unit. Anything else (several consumers, residual adds, grouped
convs) is refused: the gene is then a no-op.
Guarantee: exact (outputs equal up to fp32 rounding, about 1e-7 relative).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .channel_path import fan_in_path, reindex_channels
from .transform_base import implementation


@implementation("net2wider", "morphism", "exact", factor=2)
def net2wider(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    found = fan_in_path(graph, site)
    factor = int(params["factor"])
    if found is None or factor < 2:
        return False
    channels = site.inputs[1].const.shape[0]
    mapping = np.concatenate([np.arange(channels), rng.integers(0, channels, channels * (factor - 1))])
    copies = np.bincount(mapping, minlength=channels).astype(np.float32)
    reindex_channels(graph, site, found, mapping, scale=copies[mapping])
    return True
