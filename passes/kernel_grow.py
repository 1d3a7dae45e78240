"""Kernel growth: a k×k Conv becomes (k+2)×(k+2) with a zero border and one more pixel of padding.

Rule: for a Conv with explicit padding (auto_pad NOTSET) and dilation 1, pad its kernel with zeros on
every side and add 1 to every pad; each output reads the same taps as before plus zero-weighted ones.
Guarantee: exact (same output size, same values; fp32 sums only gain exact zeros).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Attribute, Graph, Node

from .transform_base import implementation, replace_constant


@implementation("kernel_grow", "morphism", "exact", random=False)
def kernel_grow(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    if site is None or site.op != "Conv" or not site.inputs[1].is_const:
        return False
    weight = site.inputs[1].const
    spatial = weight.ndim - 2
    if site.attr("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET") or any(
        d != 1 for d in site.attr("dilations", [1] * spatial)
    ):
        return False
    pads = list(site.attr("pads", [0] * 2 * spatial))
    replace_constant(graph, site, 1, np.pad(weight, [(0, 0), (0, 0)] + [(1, 1)] * spatial))
    site.attributes["pads"] = Attribute.of([p + 1 for p in pads])
    site.attributes["kernel_shape"] = Attribute.of([k + 2 for k in weight.shape[2:]])
    return True
