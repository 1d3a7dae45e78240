"""Cut a Nimble layer (ir/nimble.py) to its active width: the units whose mask is not zero, the mask folded in.

Rule: for a Gemm or Conv `site` whose units reach one fan-in layer through element-wise or channel-wise ops (a
Gemm: activations only; a Conv: its channel path, see channel_path), keep the first w units, w the number of
non-zero mask entries (the mask is 1, …, 1, fraction, 0, …: the units past w are off), and multiply the fan-in
layer's weights for unit j by mask_j. The mask multiplied the value entering the fan-in layer (`mask_producer`
names the node producing it), so the cut graph computes what the masked one did.
Guarantee: exact up to float rounding: the dropped units contributed mask 0 × their value, and a positive
per-unit scale on the fan-in layer's input equals the same scale on its weights.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from .channel_path import fan_in_path, reindex_channels, retype
from .transform_base import replace_constant, single_consumer

ELEMENTWISE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Softplus", "HardSigmoid", "HardSwish"}


def gemm_path(graph: Graph, site: Node) -> tuple[list[Node], Node] | None:
    """The activations after a Gemm `site` and the Gemm that reads its units, when they form a single chain."""
    if site.op != "Gemm" or not site.inputs[1].is_const:
        return None
    chain, node = [], site
    while node.outputs[0] not in graph.outputs:
        following = single_consumer(node)
        if following is None or following.inputs[0] is not node.outputs[0]:
            return None
        if following.op == "Gemm" and not following.attr("transA", 0) and following.inputs[1].is_const:
            return chain, following
        if following.op not in ELEMENTWISE or len(following.inputs) > 1:
            return None
        chain.append(following)
        node = following
    return None


def unit_path(graph: Graph, site: Node) -> tuple[list[Node], Node] | None:
    """The chain from a Gemm or Conv `site` to the layer reading its units, or None when the rule does not apply."""
    return gemm_path(graph, site) if site.op == "Gemm" else fan_in_path(graph, site)


def mask_producer(graph: Graph, site: Node) -> Node | None:
    """The node whose output (units on axis 1) a width mask multiplies: the last unit-wise node before the fan-in
    layer (before a Flatten)."""
    path = unit_path(graph, site)
    if path is None:
        return None
    chain = [n for n in path[0] if n.op != "Flatten"]
    return chain[-1] if chain else site


def cut_to_width(graph: Graph, site: Node, mask: np.ndarray) -> int:
    """Cuts `site` in place to the units whose mask is not zero, the mask folded into the fan-in layer; returns
    the width kept."""
    path = unit_path(graph, site)
    if path is None:
        raise ValueError(f"node {site.name}: no single chain from its units to one fan-in layer")
    width = max(1, int(np.count_nonzero(mask)))
    kept = np.maximum(np.asarray(mask[:width], np.float64), np.finfo(np.float32).tiny)
    if site.op == "Conv":
        reindex_channels(graph, site, path, np.arange(width), scale=1.0 / kept)
        return width
    chain, consumer = path
    units = site.outputs[0].type.shape[1]
    weight = site.inputs[1].const
    replace_constant(graph, site, 1, weight[:width] if site.attr("transB", 0) else weight[:, :width])
    if len(site.inputs) > 2 and site.inputs[2] is not None and site.inputs[2].const.shape[-1:] == (units,):
        replace_constant(graph, site, 2, site.inputs[2].const[..., :width])
    for node in [site, *chain]:
        retype(node, units, width)
    fan_in = consumer.inputs[1].const
    scale = kept.astype(fan_in.dtype)
    cut = fan_in[:, :width] * scale if consumer.attr("transB", 0) else fan_in[:width] * scale[:, None]
    replace_constant(graph, consumer, 1, cut)
    return width
