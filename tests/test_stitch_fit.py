"""Closed-form stitches: exact on affine data, and better than identity or random stitches on real features."""
from __future__ import annotations

import numpy as np

from stitchc.passes.stitch_fit import as_rows, fit_affine, fit_supernet, point_features
from stitchc.passes.supernet import build_supernet


def test_fit_recovers_an_exact_affine_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6))
    weight, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
    fitted_w, fitted_b, mse = fit_affine(x, x @ weight + bias)
    assert mse < 1e-8
    np.testing.assert_allclose(fitted_w, weight, atol=1e-3)
    np.testing.assert_allclose(fitted_b, bias, atol=1e-3)


def test_pixels_are_samples_for_spatial_features():
    features = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    rows = as_rows(features)
    assert rows.shape == (8, 3)
    np.testing.assert_array_equal(rows[1], features[0, :, 0, 1])


def _mse(source, target, weight, bias):
    return float(np.mean((as_rows(source) @ weight + bias - as_rows(target)) ** 2))


def test_least_squares_beats_identity_and_random_stitches(parents, digits):
    graph_a, graph_b = parents
    supernet = build_supernet(graph_a, graph_b)
    fit_x, check_x = digits.train.x[:800], digits.train.x[800:]
    fit_supernet(supernet, graph_a, graph_b, fit_x)
    rng = np.random.default_rng(0)
    for stitch in supernet.stitches:
        source_graph = graph_a if stitch.name.startswith("a.") else graph_b
        target_graph = graph_b if source_graph is graph_a else graph_a
        source = point_features(source_graph, [stitch.source], check_x)[id(stitch.source.value)]
        target = point_features(target_graph, [stitch.target], check_x)[id(stitch.target.value)]
        c_in, c_out = stitch.source.channels, stitch.target.channels
        fitted = _mse(source, target, stitch.weight.const.reshape(c_out, c_in).T, stitch.bias.const)
        identity = _mse(source, target, np.eye(c_in, c_out), np.zeros(c_out))
        random = _mse(source, target, rng.normal(scale=1 / np.sqrt(c_in), size=(c_in, c_out)), np.zeros(c_out))
        assert fitted < identity and fitted < random, stitch.name
