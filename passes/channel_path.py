"""The channel path of a Conv: the channel-wise ops after it and the one layer that reads its channels.

Morphisms that change a Conv's output channels (Net2WiderNet, growing units) rewrite exactly this path.
"""

from __future__ import annotations

import math

import numpy as np

from stitchc.ir import Graph, Node, TensorType

from .transform_base import replace_constant, single_consumer

CHANNELWISE = {
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "Elu",
    "Selu",
    "HardSigmoid",
    "HardSwish",
    "Softplus",
    "Identity",
    "Dropout",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "BatchNormalization",
}


def fan_in_path(graph: Graph, site: Node | None) -> tuple[list[Node], Node] | None:
    """The channel-wise nodes after a Conv `site` and the fan-in node they reach, when the path is a single
    chain; None for anything else (no site, not a group-1 Conv with constant weights, a branching path)."""
    if site is None or site.op != "Conv" or site.attr("group", 1) != 1 or not site.inputs[1].is_const:
        return None
    chain, node = [], site
    while True:
        if node.outputs[0] in graph.outputs:
            return None
        following = single_consumer(node)
        if following is None or following.inputs[0] is not node.outputs[0]:
            return None
        if following.op in CHANNELWISE and all(v is None or v.is_const for v in following.inputs[1:]):
            chain.append(following)
            node = following
        elif following.op == "Conv" and following.attr("group", 1) == 1 and following.inputs[1].is_const:
            return chain, following
        elif following.op == "Flatten" and following.attr("axis", 1) == 1:
            gemm = single_consumer(following)
            if (
                gemm is not None
                and gemm.op == "Gemm"
                and not gemm.attr("transA", 0)
                and gemm.inputs[1].is_const
                and following.outputs[0] not in graph.outputs
            ):
                return chain + [following], gemm
            return None
        else:
            return None


def retype(node: Node, old: int, new: int) -> None:
    value = node.outputs[0]
    shape = list(value.type.shape)
    if node.op == "Flatten":
        shape[1] = shape[1] // old * new
    else:
        shape[1] = new
    value.type = TensorType(value.type.dtype, tuple(shape))


def fan_in_blocks(consumer: Node, chain: list[Node], channels: int) -> np.ndarray:
    """The fan-in layer's weights grouped by input channel: [channels, ...] (a Conv's kernels, or the
    Gemm rows of each channel's block of flattened values)."""
    weight = consumer.inputs[1].const
    if consumer.op == "Conv":
        return np.moveaxis(weight, 1, 0)
    spatial = math.prod(chain[-1].inputs[0].type.shape[2:])  # chain[-1] is the Flatten
    rows = weight.T if consumer.attr("transB", 0) else weight
    return rows.reshape(channels, spatial, -1)


def set_fan_in_blocks(graph: Graph, consumer: Node, blocks: np.ndarray) -> None:
    """Writes per-channel blocks (as from fan_in_blocks, any channel count) back as the layer's weights."""
    weight = consumer.inputs[1].const
    if consumer.op == "Conv":
        array = np.moveaxis(blocks, 0, 1)
    else:
        rows = blocks.reshape(-1, blocks.shape[-1])
        array = rows.T if consumer.attr("transB", 0) else rows
    replace_constant(graph, consumer, 1, np.ascontiguousarray(array, dtype=weight.dtype))


def reindex_channels(graph: Graph, site: Node, path: tuple[list[Node], Node], mapping: np.ndarray, scale=None) -> None:
    """Makes output channel j of the Conv `site` be its old channel mapping[j] along the whole channel path
    (filters, bias, BatchNormalization statistics, value types) and the fan-in layer read channel j where it
    read mapping[j], its weights divided by `scale[j]` when given."""
    chain, consumer = path
    channels = site.inputs[1].const.shape[0]
    for index in (1, 2):
        if len(site.inputs) > index and site.inputs[index] is not None:
            replace_constant(graph, site, index, site.inputs[index].const[mapping])
    retype(site, channels, len(mapping))
    for node in chain:
        if node.op == "BatchNormalization":
            for index in range(1, 5):
                replace_constant(graph, node, index, node.inputs[index].const[mapping])
        retype(node, channels, len(mapping))
    blocks = fan_in_blocks(consumer, chain, channels)[mapping]
    if scale is not None:
        blocks = blocks / np.asarray(scale, blocks.dtype).reshape(-1, *([1] * (blocks.ndim - 1)))
    set_fan_in_blocks(graph, consumer, blocks)
