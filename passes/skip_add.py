"""Zero-initialised residual add around a block.

Rule: for a Conv site on [N, C, H, W] values (the block: the Conv and its activation when that is its only
reader, output y of shape [N, C', H', W']), read the block's input x through a 1×1 projection P with stride
s (the integer with ⌈H/s⌉ = H' and ⌈W/s⌉ = W') and zero weights and bias, and replace y by y + P(x) for
every reader of y.
Guarantee: exact: P(x) = 0 for every x, so y + P(x) = y bit for bit; P's weights start at zero and are
trained like any other (the gradient of the loss reaches them through the add).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .new_layers import Inserter, block_output, splice
from .transform_base import implementation


@implementation("skip_add", "morphism", "exact", random=False)
def skip_add(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    output = block_output(site)
    if output is None:
        return False
    x = site.inputs[0]
    (_, c_in, height, width), (_, c_out, out_h, out_w) = x.type.shape, output.type.shape
    stride = stride_between(height, out_h, width, out_w)
    if stride is None:
        return False

    def build(at: Inserter):
        zeros = np.zeros((c_out, c_in, 1, 1), x.type.dtype), np.zeros(c_out, x.type.dtype)
        projected = at.conv(x, *zeros, output.type.shape, "projection", strides=[stride, stride])
        return at.node("Add", [output, projected], output.type, "add")

    splice(graph, output, site, "skip", build)
    return True


def stride_between(height: int, out_h: int, width: int, out_w: int) -> int | None:
    """The stride s of a 1×1 convolution without padding that maps H×W to H'×W' (⌈H/s⌉ = H', ⌈W/s⌉ = W'), or
    None when there is none."""
    if out_h < 1 or out_w < 1:
        return None
    stride = max(1, height // out_h)
    for candidate in (stride, stride + 1):
        if -(-height // candidate) == out_h and -(-width // candidate) == out_w:
            return candidate
    return None
