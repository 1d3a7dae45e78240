"""specs/torchvision.stitch (torchvision resnet18 × mobilenet_v2 on MNIST, random weights as committed) runs
to the end with the default workers: a process pool, since one evaluation costs over 2 GMACs."""

from __future__ import annotations

import json
import os

import pytest

from stitchc.cli import main
from stitchc.evolve.executor import Executor

SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "torchvision.stitch")


@pytest.mark.slow
def test_the_torchvision_spec_runs_with_default_workers(tmp_path, capsys, monkeypatch):
    pools = []
    enter = Executor.__enter__
    monkeypatch.setattr(Executor, "__enter__", lambda self: (pools.append(self.workers), enter(self))[1])
    assert main(["run", SPEC, "--out", str(tmp_path)]) == 0
    assert pools == [min(os.cpu_count() or 1, 8)]
    err = capsys.readouterr().err
    assert err.count("has no `weights`: it runs with random initial weights") == 2
    document = json.loads((tmp_path / "front.json").read_text())
    assert document["parents"]["res"]["macs"] == 37_016_576
    assert all(os.path.exists(tmp_path / point["file"]) for point in document["front"])
