"""Closed-form fitting of affine stitches from streamed sufficient statistics (Csiszárik et al. 2021, SN-Net).

The stitch objective of Guijt et al. is the MSE between the stitched feature and the feature it replaces;
the stitch is affine, so ridge regression on the parents' features (ridge.py) is that objective's optimum,
and it needs only sufficient statistics. The parents run once over the fit samples, batch by batch
(features.py), and every batch adds to the float64 statistics of every stitch (joint_stats.py): peak
memory is those statistics (O(C²) per matched pair) plus one batch of features, and nothing goes to disk.
Rows are chosen per sample and every sum is float64, so the fit does not depend on the batch size beyond
float64 rounding (on the example parents: the same float32 weights, MSE within 1e-12 relative).

Checks: NaN or Inf in a stitch's features or solution raises FitError naming the stitch; a stitch whose
held-out MSE exceeds the target feature's variance (it predicts worse than the target's mean) gets a
warning line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.printable import printable
from stitchc.ir.samples import Samples

from .feature_cache import stitch_points_of
from .features import DEFAULT_BUDGET, stream_features
from .joint_stats import JointStats
from .plan import StitchError
from .ridge import Fit, RidgeStats, fit_from_stats
from .supernet import Stitch, Supernet

NOT_FINITE = "has NaN or Inf values"


class FitError(StitchError):
    """A stitch cannot be fitted (NaN or Inf in its features or its solution); the message names it."""


def set_stitch(stitch: Stitch, weight: np.ndarray, bias: np.ndarray) -> None:
    """Writes new parameters into the supernet (copy on write: new arrays, never in-place)."""
    stitch.weight.const = weight.T.reshape(stitch.weight.const.shape).astype(np.float32)
    stitch.bias.const = bias.astype(np.float32)


def fit_supernet(
    supernet: Supernet,
    parents: dict[str, Graph],
    x: Samples | np.ndarray,
    only: set[str] | None = None,
    budget: int = DEFAULT_BUDGET,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """Fits every stitch (or those named in `only`) on inputs `x` in one streaming pass of the parents (at most
    `budget` bytes of features per batch); returns the feature MSE per stitch name. `on_batch(samples)` is
    told after each batch."""
    stitches = [s for s in supernet.stitches if only is None or s.name in only]
    if not stitches:
        return {}
    stats = _accumulate(stitches, parents, x, budget, on_batch)
    errors = {}
    for stitch in stitches:
        fit = _checked_fit(stitch, *stats.stats(stitch))
        set_stitch(stitch, fit.weight, fit.bias)
        errors[stitch.name] = fit.mse
        if fit.held_out_mse > fit.held_out_variance > 0:
            print(
                printable(
                    f"stitchc: warning: stitch {stitch.name}: held-out feature MSE {fit.held_out_mse:.3g} is "
                    f"{fit.held_out_mse / fit.held_out_variance:.4g}× the target feature's variance "
                    "(no better than predicting its mean)"
                ),
                file=sys.stderr,
                flush=True,
            )
    return errors


def _accumulate(
    stitches: list[Stitch], parents: dict[str, Graph], x: Samples | np.ndarray, budget: int, on_batch=None
) -> JointStats:
    """One pass of the parents over `x`; their sessions and last batch are freed on return."""
    stats = JointStats(stitches, len(x))
    requests = [(parents[name], points) for name, points in stitch_points_of(stitches, parents).items()]
    for part, features in stream_features(requests, x, budget):
        stats.add(part, features)
        if on_batch is not None:
            on_batch(part.stop - part.start)
    return stats


def _checked_fit(stitch: Stitch, train: RidgeStats, holdout: RidgeStats) -> Fit:
    """The fit, or FitError naming the stitch and the feature that holds NaN or Inf."""
    plan = stitch.plan
    for stats in (train, holdout):
        if not np.isfinite(stats.gram).all():
            raise FitError(
                f"stitch {stitch.name}: the source feature {plan.source_parent}.{plan.source.label} {NOT_FINITE}"
            )
        if not (np.isfinite(stats.cross).all() and np.isfinite(stats.squares).all()):
            raise FitError(
                f"stitch {stitch.name}: the target feature {plan.target_parent}.{plan.target.label} {NOT_FINITE}"
            )
    fit = fit_from_stats(train, holdout)
    if not (np.isfinite(fit.weight).all() and np.isfinite(fit.bias).all()):
        raise FitError(f"stitch {stitch.name}: the least-squares solution {NOT_FINITE}")
    return fit
