"""Closed-form fitting of affine stitches (least squares; Csiszárik et al. 2021, SN-Net).

The stitch objective of Guijt et al. is the MSE between the stitched feature and the feature it replaces;
the stitch is affine, so ridge regression on the parents' cached features is that objective's optimum.
1×1 convolutions treat every pixel as a sample. The ridge strength is chosen on a held-out fifth of the
samples from a small grid, then the stitch is refitted on all samples.
"""
from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Value
from stitchc.ir.runtime import run

from .stitch_points import Point
from .supernet import Stitch, Supernet

RIDGE_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)


def point_features(graph: Graph, points: list[Point], x: np.ndarray) -> dict[int, np.ndarray]:
    """Runs the parent once with every point as an extra output; returns id(point value) -> features."""
    probe = graph.copy()
    by_name = {v.name: v for v in probe.values()}
    probe.outputs = [by_name[p.value.name] for p in points]
    outputs = run(probe, x)
    return {id(p.value): features for p, features in zip(points, outputs)}


def as_rows(features: np.ndarray) -> np.ndarray:
    """[N, C] stays; [N, C, H, W] becomes [N*H*W, C] (pixels are samples for a 1×1 conv)."""
    if features.ndim == 2:
        return features.astype(np.float64)
    return np.moveaxis(features, 1, -1).reshape(-1, features.shape[1]).astype(np.float64)


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """min ||x W + b - y||² + alpha·scale·||W||² with an unpenalised bias; returns W [C_in, C_out], b [C_out]."""
    mean_x, mean_y = x.mean(0), y.mean(0)
    xc, yc = x - mean_x, y - mean_y
    gram = xc.T @ xc
    scale = np.trace(gram) / max(len(gram), 1) + 1e-12
    weight = np.linalg.solve(gram + alpha * scale * np.eye(len(gram)), xc.T @ yc)
    return weight, mean_y - mean_x @ weight


def fit_affine(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Chooses the ridge strength on held-out rows, refits on all rows; returns W, b and the training MSE."""
    cut = len(x) * 4 // 5
    errors = []
    for alpha in RIDGE_GRID:
        weight, bias = ridge(x[:cut], y[:cut], alpha)
        errors.append(float(np.mean((x[cut:] @ weight + bias - y[cut:]) ** 2)))
    weight, bias = ridge(x, y, RIDGE_GRID[int(np.argmin(errors))])
    return weight, bias, float(np.mean((x @ weight + bias - y) ** 2))


def fit_stitch(stitch: Stitch, source: np.ndarray, target: np.ndarray) -> float:
    """Sets the stitch's weights to the ridge optimum (copy on write); returns the feature MSE reached."""
    weight, bias, mse = fit_affine(as_rows(source), as_rows(target))
    shape = stitch.weight.const.shape
    stitch.weight.const = weight.T.reshape(shape).astype(np.float32)
    stitch.bias.const = bias.astype(np.float32)
    return mse


def fit_supernet(supernet: Supernet, graph_a: Graph, graph_b: Graph, x: np.ndarray) -> dict[str, float]:
    """Fits every stitch of the supernet on inputs `x`; returns the feature MSE per stitch name."""
    features = {}
    for graph in (graph_a, graph_b):
        own = {id(v) for v in graph.values()}
        features.update(point_features(graph, _unique([s.source for s in supernet.stitches if id(s.source.value) in own]), x))
    return {s.name: fit_stitch(s, features[id(s.source.value)], features[id(s.target.value)])
            for s in supernet.stitches}


def _unique(points: list[Point]) -> list[Point]:
    return list({id(p.value): p for p in points}.values())
