"""Net2DeeperNet (Chen et al. 2016): insert an identity convolution after a Conv → ReLU.

Rule: after a Relu (the site itself, or the only consumer of a Conv site) on an [N, C, H, W] value, insert
Conv(C → C, k×k, pad k//2, stride 1) with a 1 at the centre tap (k//2, k//2) of channel i → i and zero
bias, followed by a Relu.
Guarantee: exact: the identity conv reproduces its non-negative input and ReLU∘ReLU = ReLU (refused for
activations without that property).
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node, Provenance

from .transform_base import implementation, single_consumer


@implementation("net2deeper", "morphism", "exact", random=False, kernel=3)
def net2deeper(graph: Graph, site: Node | None, params: dict, rng: np.random.Generator) -> bool:
    relu = site if site is not None and site.op == "Relu" else None
    if site is not None and site.op == "Conv":
        relu = single_consumer(site)
    if relu is None or relu.op != "Relu":
        return False
    value = relu.outputs[0]
    channels, kernel = value.type.shape[1], int(params["kernel"])
    if kernel % 2 == 0 or value.type.rank != 4:
        return False
    weight = np.zeros((channels, channels, kernel, kernel), np.float32)
    weight[np.arange(channels), np.arange(channels), kernel // 2, kernel // 2] = 1.0
    users, first = list(value.uses), graph.first_user(value)
    outputs = [v for v in graph.outputs if v is value]
    provenance = Provenance(site.provenance.parent if site.provenance else "morphism", f"{relu.name}.deeper")
    conv = graph.add_node(
        "Conv",
        [
            value,
            graph.add_constant(f"{site.name}.deeper.weight", weight),
            graph.add_constant(f"{site.name}.deeper.bias", np.zeros(channels, np.float32)),
        ],
        [value.type],
        name=f"{site.name}.deeper",
        provenance=provenance,
        attributes={"kernel_shape": [kernel, kernel], "pads": [kernel // 2] * 4},
        before=first,
    )
    activation = graph.add_node(
        "Relu", conv.outputs, [value.type], name=f"{site.name}.deeper.relu", provenance=provenance, before=first
    )
    for node, index in users:
        graph.set_input(node, index, activation.outputs[0])
    graph.outputs = [activation.outputs[0] if v in outputs else v for v in graph.outputs]
    return True
