"""stitchc.from_torch and load_torch: module paths survive as provenance; bad files give one clear error."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

import stitchc
from stitchc.ir import ModelLoadError, TensorType
from stitchc.ir.runtime import run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import zoo  # noqa: E402

NETS = """
import torch
from torch import nn

class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv1(x)), 1))

class Broken(nn.Module):
    def __init__(self):
        raise ValueError("no")
"""


@pytest.fixture()
def nets(tmp_path):
    path = tmp_path / "nets.py"
    path.write_text(NETS)
    return path


def test_module_paths_survive_the_torchscript_exporter():
    model, x = zoo.build("resnet18"), torch.randn(1, 3, 32, 32)
    scripted = {n.provenance.path for n in stitchc.from_torch(model, x).nodes}
    assert {"layer1.0.conv1", "layer1.0.relu", "layer2.0.downsample.0", "fc"} <= scripted  # BN folded into conv


def test_module_paths_survive_the_dynamo_exporter():
    pytest.importorskip("onnxscript")  # the dynamo exporter needs it
    model, x = zoo.build("resnet18"), torch.randn(1, 3, 32, 32)
    modules = {name for name, _ in model.named_modules()}
    dynamo = stitchc.from_torch(model, x, dynamo=True).nodes
    assert {"layer1.0.relu", "layer2.0.downsample.1", "fc"} <= {n.provenance.path for n in dynamo}  # BN folded
    assert all(n.provenance.path in modules or n.provenance.path == n.name for n in dynamo)  # top level: node name


def test_a_module_without_weights_gets_the_same_random_weights_every_time(nets):
    """Seeded by the parent's name: a run on random parents is reproducible, two parents of one class differ, and
    the caller's random state stays as it was."""
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    graphs = [stitchc.load_torch(f"{nets}:Small", None, ("N", 1, 8, 8), parent=p) for p in ("a", "a", "b")]
    assert torch.rand(1) == before
    weights = [[v.const for n in g.nodes for v in n.inputs if v is not None and v.is_const] for g in graphs]
    assert weights[0] and all(np.array_equal(a, b) for a, b in zip(weights[0], weights[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(weights[0], weights[2]))  # another parent, other weights


def test_load_torch_matches_the_module(nets, tmp_path):
    torch.manual_seed(0)
    weights = tmp_path / "small.pt"
    graph_untrained = stitchc.load_torch(f"{nets}:Small", None, ("N", 1, 8, 8))
    assert graph_untrained.inputs[0].type.shape == ("N", 1, 8, 8)
    namespace: dict = {}
    exec(NETS, namespace)
    reference = namespace["Small"]()
    torch.save(reference.state_dict(), weights)
    graph = stitchc.load_torch(f"{nets}:Small", weights, TensorType(np.dtype(np.float32), ("N", 1, 8, 8)))
    x = np.random.default_rng(0).normal(size=(3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(run(graph, x)[0], reference(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "spec, weights, cause",
    [
        ("missing.py:Small", None, "no such file"),
        ("{nets}:Nope", None, "no nn.Module class 'Nope' \\(defines: Broken, Small\\)"),
        ("{nets}:Broken", None, "Broken\\(\\) failed \\(ValueError: no\\)"),
        ("{nets}", None, "expected 'path/file.py:ClassName'"),
        ("{nets}:Small", "missing.pt", "no such file"),
        ("{nets}:Small", "{garbage}", "not a readable torch weights file"),
        ("{nets}:Small", "{wrong}", "weights do not fit Small"),
    ],
)
def test_load_torch_errors(nets, tmp_path, spec, weights, cause):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    spec = spec.format(nets=nets)
    weights = None if weights is None else weights.format(garbage=garbage, wrong=wrong)
    with pytest.raises(ModelLoadError, match=cause):
        stitchc.load_torch(spec, weights, ("N", 1, 8, 8))
