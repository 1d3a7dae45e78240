"""Sparse mutation decompositions: exact mask counts, static and partitioned masks, the softmax-averaging
ensemble graph against its children run one by one through ONNX Runtime, and the spec's errors."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from fractions import Fraction

import numpy as np
import pytest

import stitchc
from stitchc.cli import main
from stitchc.evolve.program_genes import program_genes
from stitchc.grammar.checker import load_program
from stitchc.ir.runtime import run
from stitchc.passes.ensemble import ensemble, mutated_children
from stitchc.passes.sparse_gaussian import sparse_gaussian

PARAMS = {"rate": 0.1, "sigma": 0.5, "static": False}


def _weights(graph):
    return [n.inputs[1].const for n in graph.nodes if n.op in ("Conv", "Gemm")]


def _changed(before, after):
    return [set(np.flatnonzero(a.reshape(-1) != b.reshape(-1)).tolist()) for a, b in zip(before, after)]


@pytest.mark.parametrize("rate", ["0.1", "0.013", "0.5", "1"])
def test_sparse_gaussian_changes_exactly_ceil_rate_of_each_tensor_and_nothing_else(parent_paths, rate):
    graph = stitchc.load(parent_paths[1])
    child = graph.copy()
    assert sparse_gaussian(child, None, dict(PARAMS, rate=float(rate), sigma=1e-6), np.random.default_rng(0))
    for before, changed in zip(_weights(graph), _changed(_weights(graph), _weights(child))):
        assert len(changed) == math.ceil(Fraction(rate) * before.size)  # even a tiny sigma changes every entry
    untouched = [
        (a.const.tobytes(), b.const.tobytes())
        for old, new in zip(graph.nodes, child.nodes)
        for k, (a, b) in enumerate(zip(old.inputs, new.inputs))
        if a is not None and a.is_const and not (old.op in ("Conv", "Gemm") and k == 1)
    ]
    assert untouched and all(a == b for a, b in untouched)  # biases and every other constant: bit-identical


def test_a_sited_sparse_gaussian_changes_only_its_layer(parent_paths):
    graph = stitchc.load(parent_paths[1])
    child = graph.copy()
    site = [n for n in child.nodes if n.op == "Conv"][1]
    assert sparse_gaussian(child, site, dict(PARAMS, rate=0.05), np.random.default_rng(0))
    counts = [len(c) for c in _changed(_weights(graph), _weights(child))]
    sizes = [w.size for w in _weights(graph)]
    assert counts == [math.ceil(Fraction("0.05") * sizes[1]) if i == 1 else 0 for i in range(len(sizes))]


def test_static_masks_repeat_and_dynamic_masks_differ(parent_paths):
    graph = stitchc.load(parent_paths[1])
    masks = {}
    for static in (True, False):
        for seed in (0, 1):
            child = graph.copy()
            sparse_gaussian(child, None, dict(PARAMS, static=static), np.random.default_rng(seed))
            masks[static, seed] = _changed(_weights(graph), _weights(child))
    assert masks[True, 0] == masks[True, 1]
    assert masks[False, 0] != masks[False, 1]


def test_partitioned_children_are_disjoint_and_exact(parent_paths):
    graph = stitchc.load(parent_paths[1])
    params = dict(PARAMS, children=4, partition=True, rate=0.25)
    children = mutated_children(graph, None, params, np.random.default_rng(3))
    for key in children[0]:
        j, k = key
        parent = graph.nodes[j].inputs[k].const
        sets = [_changed([parent], [child[key]])[0] for child in children]
        assert all(len(s) == math.ceil(parent.size / 4) for s in sets)
        assert len(set().union(*sets)) == sum(map(len, sets))  # pairwise disjoint
    assert mutated_children(graph, None, dict(params, rate=0.3), np.random.default_rng(3)) is None  # 4 · 0.3 > 1


def _with_weights(graph, weights):
    child = graph.copy()
    for (j, k), array in weights.items():
        child.set_input(child.nodes[j], k, child.add_constant("mutated", array))
    return child


@pytest.mark.parametrize("site", [None, "Gemm"])
def test_ensemble_output_is_the_mean_of_its_childrens_softmax(parent_paths, digits, site):
    graph = stitchc.load(parent_paths[1])
    params = dict(PARAMS, children=3, partition=site is not None)
    sites = [n for n in graph.nodes if n.op == site]
    children = mutated_children(graph, sites[0] if sites else None, params, np.random.default_rng(7))
    merged = graph.copy()
    assert ensemble(
        merged, [n for n in merged.nodes if n.op == site][0] if site else None, params, np.random.default_rng(7)
    )
    x = digits.val.x[:64]
    logits = [run(_with_weights(graph, child), x)[0] for child in children]
    softmax = [
        np.exp(y - y.max(1, keepdims=True)) / np.exp(y - y.max(1, keepdims=True)).sum(1, keepdims=True) for y in logits
    ]
    assert np.max(np.abs(np.exp(run(merged, x)[0]) - np.mean(softmax, axis=0))) <= 1e-6
    mutated = sum(a.size for a in children[0].values())
    assert merged.params() == graph.params() + (len(children) - 1) * mutated  # the rest is stored once
    exported = merged.to_onnx()
    assert len(exported.graph.initializer) == len(graph.to_onnx().graph.initializer) + 2 * len(children[0])


SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
mutation jitter(rate: float in 0.05..0.3 = 0.1, sigma: float = 0.3) = sparse_gaussian
morphism widen(layer: Conv) = net2wider
search smd over a {{
    genome     = program(jitter, {step}, max = 1)
    algorithm  = nsga2(population = 8, generations = 1, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize params]
}}
"""


@pytest.mark.parametrize(
    "step, message",
    [
        ("ensemble(children = 4, mutation = widen)", "7:68: error: unknown Gaussian mutation 'widen'"),
        ("ensemble(children = 1, mutation = jitter)", "7:54: error: 'children' must be at least 2, got 1"),
        ("ensemble(children = 4)", "7:34: error: ensemble() takes keyword arguments children, mutation, partition"),
        (
            "ensemble(children = 4, mutation = jitter, partition = true)",
            "7:88: error: partition = true gives each of the 4 children its own 0.3 of every tensor: "
            "rate · children must be at most 1",
        ),
    ],
)
def test_bad_ensembles_are_located_errors(tmp_path, parent_paths, capsys, step, message):
    path = tmp_path / "smd.stitch"
    path.write_text(SPEC.format(a=parent_paths[0], step=step))
    assert main(["check", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_the_ensemble_step_is_a_program_gene_with_the_mutations_parameters(tmp_path, parent_paths):
    path = tmp_path / "smd.stitch"
    path.write_text(SPEC.format(a=parent_paths[0], step="ensemble(children = 3, mutation = jitter, partition = true)"))
    program = load_program(str(path))
    graph = stitchc.load(parent_paths[0])
    genes = program_genes(program.searches["smd"].program, program.transforms, graph)
    assert [g.name for g in genes.genes()] == [
        "step0",
        "step0.site",
        "step0.seed",
        "step0.jitter.rate",
        "step0.ensemble_jitter_3_disjoint.rate",
    ]
    merged = graph.copy()
    steps = genes.apply(merged, (2, 0, 1, 0, 1))  # the ensemble, rate 0.1125 (its second level)
    assert steps == ["ensemble_jitter_3_disjoint(children=3, partition=True, rate=0.1125, sigma=0.3, static=False)"]
    assert merged.params() == graph.params() + 2 * sum(_weights(graph)[i].size for i in range(len(_weights(graph))))


@pytest.mark.slow
def test_smd_spec_evaluates_children_and_ensembles(tmp_path):
    """specs/smd.stitch (about 30 s): its search evaluates single children and ensembles (more params: the
    mutated convolution onwards is duplicated per child) and exports its front."""
    out = tmp_path / "smd"
    assert (
        main(
            ["run", os.path.join(os.path.dirname(os.path.dirname(__file__)), "specs", "smd.stitch"), "--out", str(out)]
        )
        == 0
    )
    parent = json.loads((out / "front.json").read_text())["parents"]["res"]["params"]
    params = [row[0] for row in sqlite3.connect(out / "evaluations.sqlite").execute("select params from evaluations")]
    assert params.count(parent) >= 2 and any(p > parent for p in params)
