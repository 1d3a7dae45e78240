"""Closed-form stitches: exact on affine data, streaming equals in-memory, better than identity or random."""

from __future__ import annotations

import os

import numpy as np

from stitchc.ir.runtime import run
from stitchc.stitch.feature_cache import cached_features, unique_points
from stitchc.stitch.features import sample_bytes
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.plan import explicit_plan
from stitchc.stitch.ridge import RidgeStats, fit_from_stats
from stitchc.stitch.rows import as_rows, resample_source
from stitchc.stitch.supernet import auto_supernet, build_supernet


def test_fit_recovers_an_exact_affine_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6))
    weight, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
    train, holdout = RidgeStats.of(x[:400], x[:400] @ weight + bias), RidgeStats.of(x[400:], x[400:] @ weight + bias)
    fit = fit_from_stats(train, holdout)
    assert fit.mse < 1e-8
    np.testing.assert_allclose(fit.weight, weight, atol=1e-3)
    np.testing.assert_allclose(fit.bias, bias, atol=1e-3)


def test_mse_from_statistics_equals_direct_mse():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 5)), rng.normal(size=(300, 3))
    stats = RidgeStats.of(x[:100], y[:100]) + RidgeStats.of(x[100:], y[100:])
    weight, bias = rng.normal(size=(5, 3)), rng.normal(size=3)
    assert np.isclose(stats.mse(weight, bias), np.mean((x @ weight + bias - y) ** 2))


def test_pixels_are_samples_for_spatial_features():
    features = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    rows = as_rows(features)
    assert rows.shape == (8, 3)
    np.testing.assert_array_equal(rows[1], features[0, :, 0, 1])


def test_resampling_pools_and_repeats():
    features = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(resample_source(features, 2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(resample_source(features[:, :, :2, :2], -2)[0, 0, :, 0], [0, 0, 4, 4])


def test_streaming_fit_equals_one_batch_fit(parents, digits, tmp_path):
    graphs = dict(zip("ab", parents))
    x = digits.train.x[:300]
    one, many = auto_supernet(graphs), auto_supernet(graphs)
    errors_one = fit_supernet(one, graphs, x)
    errors_many = fit_supernet(many, graphs, x, budget=64 * 1024)  # batches of 6 samples
    for s, t in zip(one.stitches, many.stitches):
        np.testing.assert_allclose(s.weight.const, t.weight.const, rtol=1e-6, atol=1e-7)
        assert np.isclose(errors_one[s.name], errors_many[t.name], rtol=1e-9)


def test_feature_cache_is_reused(parents, digits, tmp_path):
    graph = parents[0]
    from stitchc.stitch.points import stitch_points

    points = stitch_points(graph)
    first = cached_features(graph, points, digits.train.x[:64], str(tmp_path))
    stamps = {name: os.path.getmtime(tmp_path / name) for name in os.listdir(tmp_path)}
    second = cached_features(graph, points, digits.train.x[:64], str(tmp_path))
    assert {name: os.path.getmtime(tmp_path / name) for name in os.listdir(tmp_path)} == stamps
    for p in points:
        np.testing.assert_array_equal(first[id(p.value)], second[id(p.value)])
    assert len(stamps) == 2 * len(points)  # each .npy with its checksum beside it


def _mse(source, target, weight, bias):
    return float(np.mean((as_rows(source) @ weight + bias - as_rows(target)) ** 2))


def test_least_squares_beats_identity_and_random_stitches(parents, digits, tmp_path):
    graphs = dict(zip("ab", parents))
    supernet = auto_supernet(graphs)
    fit_x, check_x = digits.train.x[:800], digits.train.x[800:]
    fit_supernet(supernet, graphs, fit_x)
    rng = np.random.default_rng(0)
    for stitch in supernet.stitches:
        source = cached_features(graphs[stitch.plan.source_parent], [stitch.source], check_x, str(tmp_path))
        target = cached_features(graphs[stitch.plan.target_parent], [stitch.target], check_x, str(tmp_path))
        source, target = source[id(stitch.source.value)], target[id(stitch.target.value)]
        c_in, c_out = stitch.source.channels, stitch.target.channels
        fitted = _mse(source, target, stitch.weight.const.reshape(c_out, c_in).T, stitch.bias.const)
        identity = _mse(source, target, np.eye(c_in, c_out), np.zeros(c_out))
        random = _mse(source, target, rng.normal(scale=1 / np.sqrt(c_in), size=(c_in, c_out)), np.zeros(c_out))
        assert fitted < identity and fitted < random, stitch.name


def test_resized_stitches_run_and_fit(parents, digits, tmp_path):
    graphs = dict(zip("ab", parents))
    down = explicit_plan(graphs, "a", "relu1", "b", "pool1", resize=True)  # 8×8 → 4×4: pool then 1×1 conv
    up = explicit_plan(graphs, "b", "pool2", "a", "pool1", resize=True)  # 2×2 → 4×4: 1×1 conv then upsample
    supernet = build_supernet(graphs, [down, up], resize=True)
    errors = fit_supernet(supernet, graphs, digits.train.x[:400])
    assert all(np.isfinite(e) for e in errors.values())
    from stitchc.stitch.decode import decode

    for genome in ((1, 0, 0), (0, 1, 1), (1, 1, 2)):
        scores = run(decode(supernet, genome), digits.val.x)[0]
        assert scores.shape == (len(digits.val.x), 10)
        assert np.mean(scores.argmax(1) == digits.val.y) > 0.5, genome


def test_pixel_subsampling_keeps_the_fit(parents, digits, tmp_path, monkeypatch):
    import stitchc.stitch.rows as stitch_rows

    graphs = dict(zip("ab", parents))
    x, check = digits.train.x[:600], digits.val.x
    full, sampled = auto_supernet(graphs), auto_supernet(graphs)
    fit_supernet(full, graphs, x)
    monkeypatch.setattr(stitch_rows, "MAX_ROWS", 4096)  # 600 samples × 64 pixels = 38,400 rows → about 1 in 9
    fit_supernet(sampled, graphs, x)
    for s, t in zip(full.stitches, sampled.stitches):
        subsampled = len(x) * int(np.prod(s.target.spatial or (1,))) > 4096
        assert np.array_equal(s.weight.const, t.weight.const) != subsampled, s.name
        source = cached_features(graphs[s.plan.source_parent], [s.source], check, str(tmp_path))[id(s.source.value)]
        target = cached_features(graphs[s.plan.target_parent], [s.target], check, str(tmp_path))[id(s.target.value)]
        source = resample_source(np.asarray(source), s.resample)
        c_in, c_out = s.source.channels, s.target.channels
        errors = [_mse(source, target, u.weight.const.reshape(c_out, c_in).T, u.bias.const) for u in (s, t)]
        assert errors[1] <= errors[0] * 1.05 + 1e-6, s.name


def test_a_batch_without_held_out_samples_fits(parents, digits, tmp_path, monkeypatch):
    import stitchc.stitch.rows as stitch_rows

    graphs = dict(zip("ab", parents))
    supernet = auto_supernet(graphs)
    points = unique_points([s.source for s in supernet.stitches] + [s.target for s in supernet.stitches])
    monkeypatch.setattr(stitch_rows, "MAX_ROWS", 256)  # subsample pixels
    # batches of 100 samples, then one sample (index 100, not held out): its held-out side is empty
    errors = fit_supernet(supernet, graphs, digits.train.x[:101], budget=sample_bytes(points) * 100)
    assert all(np.isfinite(list(errors.values())))


def test_upsampling_stitch_lowers_to_torch_like_onnx_runtime(parents, digits, tmp_path):
    import torch

    from stitchc.stitch.decode import decode

    graphs = dict(zip("ab", parents))
    up = explicit_plan(graphs, "b", "pool1", "a", "relu1", resize=True)  # 4×4 → 8×8
    supernet = build_supernet(graphs, [up], resize=True)
    fit_supernet(supernet, graphs, digits.train.x[:200])
    candidate = decode(supernet, supernet.stitch_genome(supernet.stitches[0]))
    with torch.no_grad():
        through_torch = candidate.to_torch()(torch.from_numpy(digits.val.x)).numpy()
    np.testing.assert_allclose(through_torch, run(candidate, digits.val.x)[0], rtol=1e-4, atol=1e-5)


def _direct_stats(stitch, features, samples, origins):
    """RidgeStats of a stitch's rows over `samples` (no pixel subsampling) about `origins`, from whole arrays."""
    source = resample_source(np.asarray(features[id(stitch.source.value)])[samples], stitch.resample)
    target = np.asarray(features[id(stitch.target.value)])[samples]
    origin_x, origin_y = origins
    return RidgeStats.of(as_rows(source) - origin_x, as_rows(target) - origin_y)


def test_streamed_statistics_equal_direct_ones(parents, digits, tmp_path):
    from stitchc.stitch.feature_cache import parent_features, stitch_points_of
    from stitchc.stitch.features import stream_features
    from stitchc.stitch.joint_stats import JointStats

    graphs = dict(zip("ab", parents))
    resized = [
        explicit_plan(graphs, "a", "relu1", "b", "pool1", resize=True),  # pools 2×2 first
        explicit_plan(graphs, "b", "pool2", "a", "pool1", resize=True),  # upsamples ×2 after
    ]
    x = digits.train.x[:203]
    held_out = np.arange(len(x)) % 5 == 4
    for supernet in (build_supernet(graphs, resized, resize=True), auto_supernet(graphs)):  # auto: views shared
        stitches = supernet.stitches
        stats = JointStats(stitches, len(x))
        requests = [(graphs[name], points) for name, points in stitch_points_of(stitches, graphs).items()]
        for part, features in stream_features(requests, x, budget=64 * 1024):
            stats.add(part, features)
        features = parent_features(stitches, graphs, x, str(tmp_path))
        for stitch in stitches:
            streamed_sides = stats.stats(stitch)
            origins = streamed_sides[0].origin_x, streamed_sides[0].origin_y
            first = resample_source(np.asarray(features[id(stitch.source.value)][:1]), stitch.resample)
            np.testing.assert_allclose(origins[0], as_rows(first).mean(axis=0), rtol=1e-6)  # the first sample's mean
            direct = [_direct_stats(stitch, features, m, origins) for m in (~held_out, held_out)]
            for streamed, expected in zip(streamed_sides, direct):
                for name in ("gram", "cross", "squares"):
                    np.testing.assert_allclose(
                        getattr(streamed, name), getattr(expected, name), rtol=1e-12, err_msg=f"{stitch.name} {name}"
                    )
