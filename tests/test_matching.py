"""Matching keeps the merged graph acyclic on residual and branching graphs, and the supernet decodes."""

from __future__ import annotations

import itertools
import random

import numpy as np

from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.stitch.decode import decode
from stitchc.stitch.matching import match
from stitchc.stitch.merge_cycles import find_cycle
from stitchc.stitch.plan import StitchPlan
from stitchc.stitch.points import stitch_points
from stitchc.stitch.supernet import auto_supernet, build_supernet


def _pairs(graph_a, graph_b):
    return match(stitch_points(graph_a), stitch_points(graph_b))


def test_residual_matching_is_acyclic_and_maximal(make_residual, make_branching):
    graph_a = from_onnx(make_residual(1, 6, 2), "a")
    graph_b = from_onnx(make_branching(2, 4), "b")
    pairs = _pairs(graph_a, graph_b)
    points_a, points_b = stitch_points(graph_a), stitch_points(graph_b)
    assert len(pairs) == min(
        sum(1 for p in points_a if p.spatial == (8, 8)), sum(1 for p in points_b if p.spatial == (8, 8))
    ) + min(sum(1 for p in points_a if p.spatial == (4, 4)), sum(1 for p in points_b if p.spatial == (4, 4)))
    assert find_cycle([graph_a, graph_b], [(a.value, b.value) for a, b in pairs]) is None


def test_acyclicity_check_detects_crossed_pairs(make_residual):
    graph_a = from_onnx(make_residual(1, 6, 2), "a")
    graph_b = from_onnx(make_residual(3, 5, 2), "b")
    points_a, points_b = stitch_points(graph_a), stitch_points(graph_b)
    crossed = [(points_a[0].value, points_b[2].value), (points_a[2].value, points_b[0].value)]
    assert find_cycle([graph_a, graph_b], crossed) is not None


def test_every_order_preserving_subset_is_acyclic(make_residual):
    graph_a = from_onnx(make_residual(1, 6, 3), "a")
    graph_b = from_onnx(make_residual(3, 5, 2), "b")
    pairs = _pairs(graph_a, graph_b)
    for size in range(1, len(pairs) + 1):
        for subset in itertools.combinations(pairs, size):
            assert find_cycle([graph_a, graph_b], [(a.value, b.value) for a, b in subset]) is None


def test_points_exclude_input_output_and_output_feeder(make_residual):
    graph = from_onnx(make_residual(1, 6, 1), "a")
    values = {id(p.value) for p in stitch_points(graph)}
    head = graph.outputs[0].producer
    assert id(graph.outputs[0]) not in values
    assert not any(id(v) in values for v in head.inputs if v is not None)
    assert not any(id(v) in values for v in graph.inputs)


def test_random_genomes_of_a_residual_supernet_run(make_residual, make_branching):
    graph_a = from_onnx(make_residual(1, 6, 2), "a")
    graph_b = from_onnx(make_branching(2, 4), "b")
    supernet = auto_supernet({"a": graph_a, "b": graph_b})
    x = np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32)
    rng = random.Random(0)
    for _ in range(20):
        genome = tuple(rng.randrange(len(g.options)) for g in supernet.genes)
        candidate = decode(supernet, genome)
        assert not any(n.domain == "stitchc" for n in candidate.nodes)
        assert run(candidate, x)[0].shape == (4, 10)


def test_exact_matching_on_resnet_by_densenet(make_residual, make_dense):
    from stitchc.stitch.matching import match_exact, match_greedy, weights
    from stitchc.stitch.merge_cycles import find_cycle

    graph_a = from_onnx(make_residual(1, 6, 3), "a")
    graph_b = from_onnx(make_dense(2, 4, 3), "b")
    points_a, points_b = stitch_points(graph_a), stitch_points(graph_b)
    weight = weights(points_a, points_b)
    exact, proven = match_exact(points_a, points_b, weight, (graph_a, graph_b))
    greedy = match_greedy(points_a, points_b, weight, (graph_a, graph_b))
    assert proven and len(exact) >= len(greedy) and len(exact) >= 4
    assert find_cycle([graph_a, graph_b], [(a.value, b.value) for a, b in exact]) is None
    # the built supernet is itself a DAG: toposort succeeds and every genome decodes
    supernet = build_supernet(
        {"a": graph_a, "b": graph_b},
        [p for a, b in exact for p in (StitchPlan("a", a, "b", b), StitchPlan("b", b, "a", a))],
    )
    assert len(supernet.genes) == 2 * len(exact) + 1


def test_three_parents_in_one_supernet(make_residual, make_dense, make_branching):
    from stitchc.stitch.merge_cycles import find_cycle
    from stitchc.stitch.plan import group_plans

    graphs = {
        "a": from_onnx(make_residual(1, 6, 2), "a"),
        "b": from_onnx(make_dense(2, 4, 2), "b"),
        "c": from_onnx(make_branching(3, 4), "c"),
    }
    plans = group_plans(graphs)
    assert {p.source_parent for p in plans} == {"a", "b", "c"}
    assert find_cycle(list(graphs.values()), [(p.source.value, p.target.value) for p in plans]) is None
    supernet = build_supernet(graphs, plans)
    assert supernet.genes[-1].options == ("a", "b", "c", "mean")
    x = np.random.default_rng(0).normal(size=(3, 1, 8, 8)).astype(np.float32)
    for which, graph in enumerate(graphs.values()):
        np.testing.assert_array_equal(run(decode(supernet, supernet.parent_genome(which)), x)[0], run(graph, x)[0])
    rng = random.Random(1)
    for _ in range(10):
        genome = tuple(rng.randrange(len(g.options)) for g in supernet.genes)
        assert run(decode(supernet, genome), x)[0].shape == (3, 10)


def test_incompatible_explicit_points_name_both_shapes(parents):
    import pytest

    from stitchc.stitch.plan import StitchError, explicit_plan

    graphs = dict(zip("ab", parents))
    with pytest.raises(StitchError) as error:
        explicit_plan(graphs, "a", "relu1", "b", "pool1")
    assert str(error.value) == (
        "cannot stitch a.relu1 (float32[N, 8, 8, 8]) -> b.pool1 (float32[N, 32, 4, 4]): spatial sizes differ"
    )
    assert error.value.hint == "set `resize = true` in the stitch block to pool or upsample between them"
    with pytest.raises(StitchError) as error:
        explicit_plan(graphs, "a", "relu1", "b", "flatten", resize=True)
    assert str(error.value) == (
        "cannot stitch a.relu1 (float32[N, 8, 8, 8]) -> b.flatten (float32[N, 256]): "
        "one is a [N, C, H, W] feature map and the other a [N, C] vector"
    )
