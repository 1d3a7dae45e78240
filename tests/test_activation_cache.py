"""The activation cache: branch points kept by GreedyDual-Size-Frequency within a byte budget, their memory
reused, and every score bit-identical to the candidate alone over several generations."""

from __future__ import annotations

import random

import numpy as np
import pytest

from stitchc.evolve.activation_cache import WORTH, ActivationCache
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.population_graph import PopulationGraph, Signatures, read_twice
from stitchc.evolve.shared_evaluation import population_scores
from stitchc.ir.runtime import predict


@pytest.fixture(scope="module")
def space(parent_paths, digits) -> GenomeSpace:
    import stitchc
    from stitchc.stitch.fit import fit_supernet
    from stitchc.stitch.supernet import auto_supernet

    graphs = {name: stitchc.load(p, name) for name, p in zip("ab", parent_paths)}
    supernet = auto_supernet(graphs)
    fit_supernet(supernet, graphs, digits.train.x[:256])
    return GenomeSpace(supernet)


def _generations(space: GenomeSpace, count: int, size: int) -> list[list]:
    rng = random.Random(11)
    seen, generations = set(), []
    for _ in range(count):
        genomes = {space.canonical(space.sample(rng, p_on=0.5)) for _ in range(size)} - seen
        seen |= genomes
        generations.append([space.decode(g)[0] for g in sorted(genomes)])
    return generations


def _held_bytes(cache: ActivationCache) -> int:
    kept = sum(cache.arena.extent(a)[1] for arrays in cache.slots.values() for a in arrays.values())
    assert kept == cache.arena.used()  # every carved range is held by a kept value
    return max(kept, cache.arena.touched)


@pytest.mark.parametrize("budget", [1 << 30, 600_000])
def test_generations_read_the_cache_and_score_as_each_candidate_alone(space, digits, budget):
    """Six generations through one cache (roomy, then tight enough to evict): bit-identical scores, none of them
    in the cache's memory, fewer MACs than without the cache, and the cache never over its budget."""
    signatures = Signatures(read_twice(space.supernet.graph))
    cache, slot = ActivationCache(budget), ("digits", "val", 0, len(digits.val))
    done = without = 0
    for graphs in _generations(space, 6, 12):
        scores, macs = population_scores(graphs, digits.val, signatures=signatures, cache=cache, slot=slot)
        for graph, shared in zip(graphs, scores):
            assert np.array_equal(shared, predict(graph, digits.val)[0])
            assert not np.shares_memory(shared, cache.arena.bytes)  # a later batch may write over the arena
        done += macs
        without += population_scores(graphs, digits.val)[1]
        assert _held_bytes(cache) <= budget
    assert done < without


def test_kept_values_are_branch_points_or_candidate_outputs_worth_their_bytes(space, digits):
    signatures = Signatures(read_twice(space.supernet.graph))
    population = PopulationGraph(signatures)
    for graph in _generations(space, 1, 12)[0]:
        population.add(graph)
    cache = ActivationCache()
    fed, fetch = cache.plan(("val",), population, 100)
    assert not fed and fetch
    outputs = [v for v in fetch if v in population.outputs]
    assert outputs and len(outputs) < len(fetch)
    for value in fetch:
        computation = population.computations[population.producer[value]]
        assert value in outputs or signatures.is_branch_point(value, computation.node)
        assert cache.entries[value].cost >= WORTH * cache.entries[value].size


def test_priority_orders_by_cost_per_byte_and_the_budget_refuses_the_rest(space):
    """With room for one value, the one sparing the most MACs per byte is fetched; the clock rises to the
    highest priority refused."""
    signatures = Signatures(read_twice(space.supernet.graph))
    population = PopulationGraph(signatures)
    population.add(space.decode(space.parent_genome(0))[0])
    population.add(space.decode(space.parent_genome(1))[0])
    probe = ActivationCache(1 << 40)
    _, everything = probe.plan(("val",), population, 1)
    ranked = sorted(everything, key=lambda v: -probe.entries[v].cost / probe.entries[v].size)
    best = probe.entries[ranked[0]]
    assert len(ranked) > 1 and all(probe.entries[v].cost >= WORTH * probe.entries[v].size for v in ranked)
    cache = ActivationCache(best.size * 10)
    _, fetch = cache.plan(("val",), population, 10)
    assert fetch == [ranked[0]]
    assert cache.clock == max(cache.entries[v].priority for v in ranked[1:])
