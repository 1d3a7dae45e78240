"""Nimble growth: the controller's mask, its training through the torch lowering, and the cut network computing
what the masked one did (through ONNX Runtime)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import onnx
import pytest
import torch

import stitchc
from stitchc.cli import main
from stitchc.evolve.metrics.accuracy import accuracy
from stitchc.evolve.objectives import scores
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


NIMBLE_SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
search grown over a {{
    algorithm  = random(samples = 1, seed = 0)
    train      = {train}
    objectives = [maximize accuracy(digits.val), minimize params]
}}
"""


def test_a_nimble_search_exports_the_cut_network_it_reports(tmp_path, parent_paths, digits):
    path, out = tmp_path / "nimble.stitch", tmp_path / "out"
    path.write_text(NIMBLE_SPEC.format(a=parent_paths[0], train="digits.train(steps = 5, nimble = Conv)"))
    assert main(["run", str(path), "--out", str(out), "--workers", "1"]) == 0
    document = json.loads((out / "front.json").read_text())
    [point] = document["front"]
    assert point["program"][-1].startswith("nimble(") and " -> " in point["program"][-1]
    exported = onnx.load(str(out / point["file"]))
    assert accuracy(*scores(exported, digits.val)) == point["objectives"]["accuracy(digits.val)"]
    assert point["params"] < stitchc.load(parent_paths[0]).params()  # cut to the few units grown in 5 steps


@pytest.mark.parametrize(
    "train, message",
    [
        ("digits.train(nimble = Dense)", "6:40: error: unknown nimble layer 'Dense'"),
        (
            "digits.train(nimble = Conv, batch = 8)",
            "6:46: error: nimble trains every weight on full batches: drop 'batch'",
        ),
    ],
)
def test_bad_nimble_settings_are_located_errors(tmp_path, parent_paths, capsys, train, message):
    path = tmp_path / "nimble.stitch"
    path.write_text(NIMBLE_SPEC.format(a=parent_paths[0], train=train))
    assert main(["check", str(path)]) == 2
    assert f"{path}:{message}" in capsys.readouterr().err


@pytest.mark.slow
def test_nimble_spec_grows_and_cuts_its_hidden_layer(tmp_path):
    """specs/nimble.stitch (about 75 s): the exported network is the cut one, narrower than 128 units."""
    out = tmp_path / "nimble"
    assert (
        main(
            [
                "run",
                os.path.join(os.path.dirname(os.path.dirname(__file__)), "specs", "nimble.stitch"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    [point] = json.loads((out / "front.json").read_text())["front"]
    width = int(point["program"][-1].split("-> ")[1].split(" units")[0])
    assert 1 <= width < 128 and point["params"] == 785 * width + (width + 1) * 10
    assert point["objectives"]["accuracy(mnist.val)"] > 0.9
