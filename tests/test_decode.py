"""Decoding: the all-A and all-B genomes are exactly the parents; switched genomes are pruned and counted."""

from __future__ import annotations

import numpy as np
import onnx

from stitchc.ir.runtime import run
from stitchc.stitch.decode import canonical, decode
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.supernet import auto_supernet


def test_parent_genomes_reproduce_parents_exactly(parents, parent_paths, digits):
    graph_a, graph_b = parents
    supernet = auto_supernet({"a": graph_a, "b": graph_b})
    fit_supernet(supernet, {"a": graph_a, "b": graph_b}, digits.train.x[:256])
    for which, (graph, path) in enumerate(zip(parents, parent_paths)):
        candidate = decode(supernet, supernet.parent_genome(which))
        expected = run(onnx.load(path), digits.val.x)[0]
        np.testing.assert_array_equal(run(candidate, digits.val.x)[0], expected)
        assert candidate.macs() == graph.macs() and candidate.params() == graph.params()
        assert {n.provenance.parent for n in candidate.nodes} == {supernet.parents[which]}


def test_ensemble_genome_averages_both_parents(parents, parent_paths, digits):
    supernet = auto_supernet(dict(zip("ab", parents)))
    logits = [run(onnx.load(p), digits.val.x)[0] for p in parent_paths]
    candidate = decode(supernet, supernet.ensemble_genome())
    np.testing.assert_allclose(run(candidate, digits.val.x)[0], (logits[0] + logits[1]) / 2, rtol=1e-6, atol=1e-6)


def test_switching_into_a_costs_the_b_prefix(parents):
    graph_a, graph_b = parents
    supernet = auto_supernet({"a": graph_a, "b": graph_b})
    first = next(i for i, g in enumerate(supernet.genes) if g.name.startswith("a."))  # a switch fed from b
    genome = tuple(1 if i == first else 0 for i in range(len(supernet.genes)))
    candidate = decode(supernet, genome)
    parents_used = {n.provenance.parent for n in candidate.nodes}
    assert parents_used == {"a", "b", "stitch"}, first
    assert graph_a.macs() < candidate.macs() < graph_a.macs() + graph_b.macs()


def test_canonical_zeroes_genes_that_cannot_reach_the_output(parents):
    supernet = auto_supernet(dict(zip("ab", parents)))
    # with output = a and no B→A switch, every switch on B's side is irrelevant
    genome = tuple(1 if supernet.genes[i].options[0] == "b" else 0 for i in range(len(supernet.genes) - 1)) + (0,)
    assert canonical(supernet, genome) == supernet.parent_genome(0)
    assert canonical(supernet, supernet.parent_genome(1)) == supernet.parent_genome(1)


def test_sparse_sampling_of_genomes(parents):
    import random

    from stitchc.evolve.genome_space import GenomeSpace

    space = GenomeSpace(auto_supernet(dict(zip("ab", parents))))
    rng = random.Random(0)
    genomes = [space.sample(rng, p_on=0.1) for _ in range(400)]
    switches = np.array([g[:-1] for g in genomes])
    assert 0.07 < switches.mean() < 0.13
    assert {g[-1] for g in genomes} == {0, 1, 2}


def test_decoding_twice_gives_the_same_bytes(parents):
    supernet = auto_supernet(dict(zip("ab", parents)))
    genome = tuple(1 if i % 3 == 0 else 0 for i in range(len(supernet.genes) - 1)) + (2,)
    first = decode(supernet, genome)
    first.add_constant(first.constants[next(iter(first.constants))].name, np.zeros(1))  # a step naming a constant
    second = decode(supernet, genome)
    second.add_constant(second.constants[next(iter(second.constants))].name, np.zeros(1))
    assert first.to_onnx().SerializeToString() == second.to_onnx().SerializeToString()
