"""Linear CKA: 1 for the same representation up to rotation and scale, lower for unrelated ones."""

from __future__ import annotations

import numpy as np

from stitchc.stitch.matching import match_chain, weights
from stitchc.stitch.points import stitch_points
from stitchc.stitch.similarity import cka_matrix, cka_similarity, linear_cka


def test_cka_invariances():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12))
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert np.isclose(linear_cka(x, 3.0 * x @ rotation), 1.0)
    assert linear_cka(x, rng.normal(size=(200, 12))) < 0.2


def test_cka_matrix_matches_pairwise():
    rng = np.random.default_rng(1)
    a = [rng.normal(size=(50, 4, 2, 2)), rng.normal(size=(50, 6))]
    b = [rng.normal(size=(50, 3))]
    matrix = cka_matrix(a, b)
    assert matrix.shape == (2, 1)
    assert np.isclose(matrix[1, 0], linear_cka(a[1], b[0]))


def test_cka_weighting_prefers_similar_pairs(parents, digits):
    graph_a, graph_b = parents
    similarity = cka_similarity(graph_a, graph_b, digits.train.x[:128])
    points_a, points_b = stitch_points(graph_a), stitch_points(graph_b)
    assert similarity.shape == (len(points_a), len(points_b))
    assert np.all((similarity > 0) & (similarity <= 1 + 1e-9))
    by_depth = match_chain(points_a, points_b, weights(points_a, points_b))
    by_cka = match_chain(points_a, points_b, weights(points_a, points_b, similarity))
    assert len(by_cka) == len(by_depth)  # the number of pairs always comes first
    index = {id(p.value): i for i, p in enumerate(points_a)} | {id(p.value): j for j, p in enumerate(points_b)}
    total = sum(similarity[index[id(a.value)], index[id(b.value)]] for a, b in by_cka)
    assert total >= sum(similarity[index[id(a.value)], index[id(b.value)]] for a, b in by_depth) - 1e-12
