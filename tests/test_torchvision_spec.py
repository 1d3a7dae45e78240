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


@pytest.mark.slow
def test_torchvision_candidates_score_alike_alone_merged_and_fed_from_the_cache(tmp_path):
    """resnet18 × mobilenet_v2 hold residual Adds of two Convs and depthwise convolutions, where ONNX Runtime's
    fusions and NCHWc kernels depend on the rest of the model: 30 random candidates, scored alone, then merged in
    two generations through one activation cache, give bit-identical outputs."""
    import random

    import numpy as np

    from stitchc.evolve.activation_cache import ActivationCache
    from stitchc.evolve.conv_sum_fusion import scored_form
    from stitchc.evolve.genome_space import GenomeSpace
    from stitchc.evolve.population_graph import Signatures, read_twice
    from stitchc.evolve.shared_evaluation import population_scores
    from stitchc.grammar.checker import load_program
    from stitchc.ir.runtime import predict
    from stitchc.preflight import prepare
    from stitchc.run import compile_supernet

    program = load_program(SPEC)
    search = program.searches["front"]
    inputs = prepare(program)
    groups = [program.stitches[name] for name in search.over]
    supernet = compile_supernet(program, search, groups, inputs.datasets, inputs.models, str(tmp_path))
    space = GenomeSpace(supernet)
    val = inputs.datasets["mnist"].split("val").take(128)
    rng = random.Random(3)
    genomes = list(dict.fromkeys(space.canonical(space.sample(rng, p_on=0.3)) for _ in range(40)))[:30]
    graphs = [scored_form(space.decode(g)[0]) for g in genomes]
    alone = [predict(graph, val)[0] for graph in graphs]
    signatures, cache = Signatures(read_twice(space.supernet.graph)), ActivationCache()
    for low, high in ((0, 10), (10, 30)):
        scores, _ = population_scores(graphs[low:high], val, signatures=signatures, cache=cache, slot=("val",))
        assert all(np.array_equal(a, b) for a, b in zip(alone[low:high], scores))
    assert cache.slots[("val",)]  # the second generation was fed values the first kept
