"""Shared evaluation scores every candidate exactly as a session of that candidate alone, with fewer MACs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from stitchc.evolve.executor import Executor
from stitchc.evolve.front import pareto_front
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.nsga2 import nsga2
from stitchc.evolve.objectives import Evaluator
from stitchc.evolve.population_graph import PopulationGraph
from stitchc.evolve.shared_evaluation import population_scores, shards
from stitchc.grammar.checker import load_program
from stitchc.ir.runtime import predict
from tests.conftest import PROGRAM_SPEC


@pytest.fixture(scope="module")
def built(tmp_path_factory, parent_paths, digits):
    """(GenomeSpace, spec path) of the program spec over the example parents, fitted once for this module."""
    import stitchc
    from stitchc.evolve.program_genes import program_genes
    from stitchc.stitch.fit import fit_supernet
    from stitchc.stitch.supernet import auto_supernet

    path = tmp_path_factory.mktemp("shared") / "program.stitch"
    path.write_text(PROGRAM_SPEC.format(a=parent_paths[0], b=parent_paths[1]))
    program = load_program(str(path))
    graphs = {name: stitchc.load(p, name) for name, p in zip("ab", parent_paths)}
    supernet = auto_supernet(graphs)
    fit_supernet(supernet, graphs, digits.train.x[:256])
    search = program.searches["front"]
    return GenomeSpace(supernet, program_genes(search.program, program.transforms, supernet.graph)), str(path)


@pytest.fixture()
def evaluator(built, digits):
    """evaluator(shared) -> an Evaluator of the program spec's objectives on the validation digits."""
    objectives = load_program(built[1]).searches["front"].objectives
    return lambda shared: Evaluator(built[0], objectives, {("digits", "val"): digits.val}, shared=shared)


def _genomes(space: GenomeSpace, count: int, seed: int) -> list[tuple[int, ...]]:
    rng = random.Random(seed)
    return list(dict.fromkeys(space.canonical(space.sample(rng, p_on=0.5)) for _ in range(count)))


def test_population_scores_equal_each_candidate_alone(built, digits):
    space = built[0]
    genomes = _genomes(space, 20, seed=3)
    decoded = [space.decode(g) for g in genomes]
    assert sum(1 for _, steps in decoded if any(s.startswith("jitter") for s in steps)) >= 3  # weights mutated
    assert sum(1 for _, steps in decoded if any(s.startswith(("widen", "deepen")) for s in steps)) >= 3
    graphs = [graph for graph, _ in decoded]
    shared, done = population_scores(graphs, digits.val, budget=1 << 40)
    for graph, scores in zip(graphs, shared):
        assert np.array_equal(scores, predict(graph, digits.val)[0])  # bit for bit, hence the same predictions
    assert done < sum(g.macs() for g in graphs)


def test_changed_weights_change_the_signature_and_equal_weights_share(built):
    space = built[0]
    graph = space.decode(space.parent_genome(0))[0]
    twin, mutated = graph.copy(), graph.copy()
    weight = next(v for v in mutated.constants.values() if v.const.ndim == 4)
    weight.const = weight.const.copy()  # same content, another array: still shared
    population = PopulationGraph()
    population.add(graph)
    population.add(twin)
    population.add(mutated)
    population.to_onnx()
    assert len(set(population.outputs)) == 1 and population.macs_done == graph.macs()
    weight.const = weight.const + np.float32(1e-3)
    population.add(mutated)
    population.to_onnx()
    assert population.outputs[-1] != population.outputs[0] and population.macs_done > graph.macs()


def test_a_small_budget_splits_the_population_with_the_same_scores(built, digits):
    space = built[0]
    graphs = [space.decode(g)[0] for g in _genomes(space, 8, seed=4)]
    whole, done_whole = population_scores(graphs, digits.val, budget=1 << 40)
    split, done_split = population_scores(graphs, digits.val, budget=1)  # one candidate per population graph
    assert all(np.array_equal(a, b) for a, b in zip(whole, split))
    assert done_split == sum(g.macs() for g in graphs) > done_whole


def test_shards_cover_the_samples_on_batch_boundaries():
    assert shards(1000, 2) == [(0, 512), (512, 1000)]
    assert shards(100, 4) == [(0, 100)]
    assert shards(0, 2) == [(0, 0)]
    assert shards(1000, 3, batch=100) == [(0, 400), (400, 800), (800, 1000)]


def test_shared_with_one_or_two_workers_gives_the_front_of_each_alone(built, evaluator):
    """A small NSGA-II search: the same archive (genomes, objective values, MACs) and front either way (tests
    /test_executor.py shows two workers alone give what one gives)."""
    space = built[0]
    runs = []
    for shared, workers in ((False, 1), (True, 1), (True, 2)):
        with Executor(evaluator(shared), workers=workers) as executor:
            archive = nsga2(space.cardinalities, executor.map, 8, 2, 5, space.sample, (1.0, -1.0))
            assert bool(executor.pools) == (workers == 2)
        runs.append((sorted(archive, key=lambda e: e.genome), executor.evaluator.stats))
    (alone, alone_stats), *shared_runs = runs
    for shared, stats in shared_runs:
        assert shared == alone
        assert pareto_front(shared, (1.0, -1.0)) == pareto_front(alone, (1.0, -1.0))
        assert stats.evaluations == alone_stats.evaluations == len(alone)
        assert stats.macs_needed == alone_stats.macs_needed == alone_stats.macs_done > stats.macs_done


def test_activations_kept_between_batches_give_the_same_scores_for_less(built, digits):
    """A second batch reads activations the first left in the cache: fewer MACs, scores still bit-identical."""
    from stitchc.evolve.activation_cache import ActivationCache
    from stitchc.evolve.population_graph import Signatures

    space = built[0]
    first, second = (_genomes(space, 8, seed=s) for s in (6, 7))
    graphs = [space.decode(g)[0] for g in second]
    signatures, cache = Signatures(), ActivationCache()
    slot = ("digits", "val", 0, len(digits.val))
    population_scores([space.decode(g)[0] for g in first], digits.val, signatures=signatures, cache=cache, slot=slot)
    assert cache.slots[slot]
    scores, done = population_scores(graphs, digits.val, signatures=signatures, cache=cache, slot=slot)
    assert done < population_scores(graphs, digits.val)[1]
    for graph, shared in zip(graphs, scores):
        assert np.array_equal(shared, predict(graph, digits.val)[0])
