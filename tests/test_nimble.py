"""Nimble growth: the controller's mask, its training through the torch lowering, and the cut network computing
what the masked one did (through ONNX Runtime)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import stitchc
from stitchc.ir.nimble import NimbleWidth, insert_width_controller, train_nimble
from stitchc.ir.runtime import run
from stitchc.passes.nimble_cut import cut_to_width, mask_producer


def test_the_mask_is_ones_then_the_fraction_then_zeros():
    width = NimbleWidth(10, seed=0)
    with torch.no_grad():
        width.controller.fill_(2 / math.pi * math.asin(math.sqrt(0.37)))  # s = 0.37: 3.7 units
    assert np.allclose(width.mask().detach().numpy(), [1, 1, 1, 0.7, 0, 0, 0, 0, 0, 0], atol=1e-5)


@pytest.mark.parametrize("parent, op", [(1, "Gemm"), (0, "Conv"), (1, "Conv")])
def test_the_cut_network_computes_what_the_masked_one_did(parent_paths, digits, parent, op):
    graph = stitchc.load(parent_paths[parent])
    site = next(n for n in graph.nodes if n.op == op and mask_producer(graph, n) is not None)
    producer = mask_producer(graph, site)
    x, y = digits.train.x[:128], digits.train.y[:128]
    trained = train_nimble(graph, producer.name, x, y, steps=20, seed=1)
    assert trained.controller > 0.01  # λ(c − 1)² pulls c up from ~1e-5 (Adam: about lr per step)
    units = site.outputs[0].type.shape[1]
    module = trained.graph.to_torch()
    width = insert_width_controller(module, producer.name, units, seed=0)
    with torch.no_grad():
        width.controller.fill_(2 / math.pi * math.asin(math.sqrt((units * 0.6 + 0.3) / units)))
    masked = module(torch.from_numpy(digits.val.x)).detach().numpy()
    cut = trained.graph.copy()
    kept = cut_to_width(cut, cut.nodes[graph.nodes.index(site)], width.mask().detach().numpy())
    assert kept == math.floor(units * 0.6 + 0.3) + 1 and kept < units
    assert cut.params() < graph.params()
    assert np.max(np.abs(run(cut, digits.val.x)[0] - masked)) <= 1e-5 * np.max(np.abs(masked))
