"""The channel path of a Conv: the channel-wise ops after it and the one layer that reads its channels.

Morphisms that change a Conv's output channels (Net2WiderNet, growing units) rewrite exactly this path.
"""
from __future__ import annotations

from stitchc.ir import Graph, Node, TensorType

from .transform_base import single_consumer

CHANNELWISE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus",
               "Identity", "Dropout", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
               "BatchNormalization"}


def fan_in_path(graph: Graph, site: Node) -> tuple[list[Node], Node] | None:
    """The channel-wise nodes after `site` and the fan-in node they reach, when the path is a single chain."""
    if site.attr("group", 1) != 1 or not site.inputs[1].is_const:
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
            if gemm is not None and gemm.op == "Gemm" and not gemm.attr("transA", 0) and gemm.inputs[1].is_const \
                    and following.outputs[0] not in graph.outputs:
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
