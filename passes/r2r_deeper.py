"""R2R-style residual insertion (Painter, "R2R"): deepen with a new residual block that starts at zero.

Rule: after a Conv site (after its activation when that is its only reader), for the value v of shape
[N, C, H, W], insert v + Conv_b(Relu(Conv_a(v))): Conv_a is k×k ("same" padding, stride 1) from C to 2h
channels with weights [A; A] and biases [a; a] (the same h random units twice), Conv_b is 1×1 from 2h to C
with weights [B, −B] and zero bias (A, B He-initialised).
Guarantee: exact: Conv_b computes B·r − B·r = 0 for the duplicated units r, so the block adds zero (up to
fp32 rounding of the cancelling sums, about 1e-7 of |B·r|). Unlike a block whose last layer is zero, every
new weight gets a gradient from the first step (the two copies move apart), which is why R2R initialises
in symmetric pairs.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node, TensorType

from .new_layers import Inserter, block_output, splice
from .transform_base import implementation


@implementation("r2r_deeper", "morphism", "exact", hidden=0, kernel=3)
def r2r_deeper(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    value = block_output(site)
    kernel = int(params["kernel"])
    if value is None or kernel % 2 == 0 or kernel < 1:
        return False
    batch, channels, height, width = value.type.shape
    hidden = int(params["hidden"]) or channels
    dtype = value.type.dtype
    a = rng.normal(0.0, np.sqrt(2.0 / (channels * kernel * kernel)), (hidden, channels, kernel, kernel))
    b = rng.normal(0.0, np.sqrt(2.0 / (2 * hidden)), (channels, hidden, 1, 1))
    bias = rng.normal(0.0, 0.01, hidden)

    def build(at: Inserter):
        inner = (batch, 2 * hidden, height, width)
        first = at.conv(
            value,
            np.concatenate([a, a]).astype(dtype),
            np.concatenate([bias, bias]).astype(dtype),
            inner,
            "expand",
            pads=[kernel // 2] * 4,
        )
        active = at.node("Relu", [first], TensorType(dtype, inner), "relu")
        second = at.conv(
            active,
            np.concatenate([b, -b], axis=1).astype(dtype),
            np.zeros(channels, dtype),
            value.type.shape,
            "project",
        )
        return at.node("Add", [value, second], value.type, "add")

    splice(graph, value, site, "r2r", build)
    return True
