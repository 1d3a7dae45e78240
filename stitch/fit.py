"""Closed-form fitting of affine stitches (least squares; Csiszárik et al. 2021, SN-Net).

The stitch objective of Guijt et al. is the MSE between the stitched feature and the feature it replaces;
the stitch is affine, so ridge regression on the parents' features is that objective's optimum. Pixels are
samples for 1×1 convolutions; beyond MAX_ROWS pixels per stitch a seeded uniform subset of pixel
positions is used (each output channel is a regression on C_in inputs, which 2^16 rows determine;
bench/stitch_fit.py reports the held-out MSE that shows it). Only sufficient statistics (Σx, Σy, ΣxxT,
ΣxyT, Σ‖y‖²) are accumulated, batch by batch from the feature cache, so memory is O(C²) per stitch
whatever the sample count. Every fifth sample is held out to choose the ridge strength from a grid; the
final fit uses all samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.samples import Samples

from .feature_cache import DEFAULT_BUDGET, batch_size, cached_features, feature_folder
from .points import Point
from .supernet import Stitch, Supernet

RIDGE_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)
HOLDOUT_EVERY = 5
MAX_ROWS = (
    2**16
)  # pixel rows per stitch beyond which positions are subsampled (≥ 128 rows per input channel up to C_in = 512)


def as_rows(features: np.ndarray) -> np.ndarray:
    """[N, C] stays; [N, C, H, W] becomes [N*H*W, C] (pixels are samples for a 1×1 conv)."""
    if features.ndim == 2:
        return np.asarray(features, dtype=np.float32)
    return np.ascontiguousarray(np.moveaxis(np.asarray(features, dtype=np.float32), 1, -1)).reshape(
        -1, features.shape[1]
    )


def resample_source(features: np.ndarray, resample: int) -> np.ndarray:
    """What the stitch's 1×1 map sees, aligned with the target's pixels: k×k mean-pooled or ×k repeated."""
    if resample > 1:
        n, c, h, w = features.shape
        return features.reshape(n, c, h // resample, resample, w // resample, resample).mean(axis=(3, 5))
    if resample < -1:
        k = -resample
        return np.repeat(np.repeat(features, k, axis=2), k, axis=3)
    return features


@dataclass
class RidgeStats:
    """Sufficient statistics of a least-squares problem rows x → rows y."""

    c_in: int
    c_out: int
    n: int = 0
    sx: np.ndarray = field(init=False)
    sy: np.ndarray = field(init=False)
    sxx: np.ndarray = field(init=False)
    sxy: np.ndarray = field(init=False)
    syy: float = 0.0

    def __post_init__(self):
        self.sx, self.sy = np.zeros(self.c_in), np.zeros(self.c_out)
        self.sxx, self.sxy = np.zeros((self.c_in, self.c_in)), np.zeros((self.c_in, self.c_out))

    def add(self, x: np.ndarray, y: np.ndarray, gram: np.ndarray | None = None) -> None:
        """Adds rows; products run in the rows' precision (float32 from the cache), sums accumulate in float64.
        `gram` is x.T @ x when the caller already has it (points shared by several stitches)."""
        self.n += len(x)
        self.sx += x.sum(0, dtype=np.float64)
        self.sy += y.sum(0, dtype=np.float64)
        self.sxx += x.T @ x if gram is None else gram
        self.sxy += x.T @ y
        self.syy += float(np.vdot(y, y))

    def __add__(self, other: "RidgeStats") -> "RidgeStats":
        total = RidgeStats(self.c_in, self.c_out)
        total.n, total.syy = self.n + other.n, self.syy + other.syy
        total.sx, total.sy = self.sx + other.sx, self.sy + other.sy
        total.sxx, total.sxy = self.sxx + other.sxx, self.sxy + other.sxy
        return total

    def solve(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Ridge solution with an unpenalised bias: W [C_in, C_out], b [C_out]."""
        mean_x, mean_y = self.sx / self.n, self.sy / self.n
        gram = self.sxx - self.n * np.outer(mean_x, mean_x)
        cross = self.sxy - self.n * np.outer(mean_x, mean_y)
        scale = np.trace(gram) / max(self.c_in, 1) + 1e-12
        weight = np.linalg.solve(gram + alpha * scale * np.eye(self.c_in), cross)
        return weight, mean_y - mean_x @ weight

    def mse(self, weight: np.ndarray, bias: np.ndarray) -> float:
        """Mean squared error of x W + b against y over the accumulated rows, from the statistics alone."""
        total = (
            np.sum(weight * (self.sxx @ weight))
            + 2 * bias @ (weight.T @ self.sx)
            + self.n * bias @ bias
            - 2 * np.sum(weight * self.sxy)
            - 2 * bias @ self.sy
            + self.syy
        )
        return float(max(total, 0.0) / (self.n * self.c_out))


def fit_from_stats(train: RidgeStats, holdout: RidgeStats) -> tuple[np.ndarray, np.ndarray, float]:
    """Chooses the ridge strength on the holdout rows, refits on all rows; returns W, b and the MSE on all rows."""
    errors = [holdout.mse(*train.solve(alpha)) for alpha in RIDGE_GRID] if holdout.n else [0.0]
    everything = train + holdout
    weight, bias = everything.solve(RIDGE_GRID[int(np.argmin(errors))])
    return weight, bias, everything.mse(weight, bias)


def set_stitch(stitch: Stitch, weight: np.ndarray, bias: np.ndarray) -> None:
    """Writes new parameters into the supernet (copy on write: new arrays, never in-place)."""
    stitch.weight.const = weight.T.reshape(stitch.weight.const.shape).astype(np.float32)
    stitch.bias.const = bias.astype(np.float32)


def parent_features(
    stitches: list[Stitch],
    parents: dict[str, Graph],
    x: Samples | np.ndarray,
    folder: str,
    budget: int = DEFAULT_BUDGET,
) -> dict[int, np.ndarray]:
    """Cached features of every point the stitches read or replace, per parent, in `folder`."""
    features = {}
    for name, graph in parents.items():
        points = _unique(
            [s.source for s in stitches if s.plan.source_parent == name]
            + [s.target for s in stitches if s.plan.target_parent == name]
        )
        if points:
            features.update(cached_features(graph, points, x, folder, budget))
    return features


def fit_supernet(
    supernet: Supernet,
    parents: dict[str, Graph],
    x: Samples | np.ndarray,
    cache: str | None = None,
    budget: int = DEFAULT_BUDGET,
    only: set[str] | None = None,
) -> dict[str, float]:
    """Fits every stitch (or those named in `only`) on inputs `x` (read batch by batch into the feature cache)
    in one streaming pass; returns the feature MSE per stitch name."""
    stitches = [s for s in supernet.stitches if only is None or s.name in only]
    with feature_folder(cache) as folder:
        return _fit(stitches, parents, x, folder, budget)


def _fit(
    stitches: list[Stitch], parents: dict[str, Graph], x: Samples | np.ndarray, folder: str, budget: int
) -> dict[str, float]:
    features = parent_features(stitches, parents, x, folder, budget)
    stats = {
        s.name: (RidgeStats(s.source.channels, s.target.channels), RidgeStats(s.source.channels, s.target.channels))
        for s in stitches
    }
    points = [s.source for s in stitches] + [s.target for s in stitches]
    step = batch_size(points, budget)
    holdout = np.arange(len(x)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    for start in range(0, len(x), step):
        part = slice(start, start + step)
        rows = _BatchRows(features, part, (~holdout[part], holdout[part]), len(x), seed=start)
        for stitch in stitches:
            spatial = stitch.target.spatial
            for side, stats_side in enumerate(stats[stitch.name]):
                source = rows.get(stitch.source, stitch.resample, side, spatial)
                if len(source):
                    stats_side.add(
                        source,
                        rows.get(stitch.target, 1, side, spatial),
                        rows.gram(stitch.source, stitch.resample, side, spatial),
                    )
    errors = {}
    for stitch in stitches:
        weight, bias, errors[stitch.name] = fit_from_stats(*stats[stitch.name])
        set_stitch(stitch, weight, bias)
    return errors


class _BatchRows:
    """Rows and Gram matrices of one batch, each computed once however many stitches share them.

    A row is one pixel of one sample (one sample for [N, C] features). When a stitch's target has more
    than MAX_ROWS pixels over all samples, a seeded uniform subset of pixel positions is used, the same
    positions for the source and the target (so Grams stay shared between stitches)."""

    def __init__(
        self,
        features: dict[int, np.ndarray],
        part: slice,
        masks: tuple[np.ndarray, np.ndarray],
        samples: int,
        seed: int,
    ):
        self.features, self.part, self.masks, self.samples, self.seed = features, part, masks, samples, seed
        self.rows: dict[tuple, np.ndarray] = {}
        self.grams: dict[tuple, np.ndarray] = {}
        self.positions: dict[tuple, tuple[np.ndarray, ...]] = {}

    def get(self, point: Point, resample: int, side: int, spatial: tuple) -> np.ndarray:
        key = (id(point.value), resample, side, spatial)
        if key not in self.rows:
            batch = np.asarray(self.features[id(point.value)][self.part])
            batch = batch if self.masks[side].all() else batch[self.masks[side]]
            if not spatial:
                self.rows[key] = np.asarray(batch, dtype=np.float32)
            else:
                self.rows[key] = self._gather(batch, resample, self._positions(side, spatial))
        return self.rows[key]

    def gram(self, point: Point, resample: int, side: int, spatial: tuple) -> np.ndarray:
        key = (id(point.value), resample, side, spatial)
        if key not in self.grams:
            rows = self.get(point, resample, side, spatial)
            self.grams[key] = rows.T @ rows
        return self.grams[key]

    def _positions(self, side: int, spatial: tuple) -> tuple[np.ndarray, ...]:
        """(sample, row, column) indices of the target pixels used, in this batch and side."""
        key = (side, spatial)
        if key not in self.positions:
            count = int(self.masks[side].sum())
            height, width = spatial
            total = count * height * width
            fraction = min(1.0, MAX_ROWS / (self.samples * height * width))
            chosen = np.arange(total)
            if fraction < 1.0 and total:
                rng = np.random.default_rng([self.seed, side, height, width])
                chosen = np.sort(rng.choice(total, size=max(1, round(fraction * total)), replace=False))
            self.positions[key] = np.unravel_index(chosen, (count, height, width))
        return self.positions[key]

    @staticmethod
    def _gather(batch: np.ndarray, resample: int, positions: tuple[np.ndarray, ...]) -> np.ndarray:
        """The [rows, C] features at the target positions, as the stitch's 1×1 map sees them."""
        n, h, w = positions
        if resample < -1:  # nearest upsampling: target pixel (h, w) reads source pixel (h // k, w // k)
            h, w = h // -resample, w // -resample
        elif resample > 1:
            batch = resample_source(batch, resample)
        return np.ascontiguousarray(batch[n, :, h, w], dtype=np.float32)


def _unique(points: list[Point]) -> list[Point]:
    return list({id(p.value): p for p in points}.values())
