"""Concatenation skip followed by an [I | 0] 1×1 convolution (DenseNet-style reuse of a block's input).

Rule: for a Conv site on [N, C, H, W] values whose block (the Conv and its activation when that is its only
reader) keeps the spatial size (output y of shape [N, C', H, W]), replace y by Conv₁ₓ₁(Concat(y, x)) for every
reader of y, with weight [I_C' | 0_{C'×C}] and zero bias.
Guarantee: exact: output channel i is 1·y_i + Σ 0·(the rest) = y_i bit for bit; the zero block is where
training lets the block's input x reach the output.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node, TensorType

from .new_layers import Inserter, block_output, splice
from .transform_base import implementation


@implementation("skip_concat", "morphism", "exact", random=False)
def skip_concat(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    output = block_output(site)
    if output is None:
        return False
    x = site.inputs[0]
    (batch, c_in, height, width), (_, c_out, out_h, out_w) = x.type.shape, output.type.shape
    if (height, width) != (out_h, out_w):
        return False
    dtype = output.type.dtype

    def build(at: Inserter):
        joined = TensorType(dtype, (batch, c_out + c_in, height, width))
        concat = at.node("Concat", [output, x], joined, "concat", axis=1)
        weight = np.zeros((c_out, c_out + c_in, 1, 1), dtype)
        weight[np.arange(c_out), np.arange(c_out), 0, 0] = 1.0
        return at.conv(concat, weight, np.zeros(c_out, dtype), output.type.shape, "mix")

    splice(graph, output, site, "concat_skip", build)
    return True
