"""Hypervolume of k objectives against a fixed reference point, as a fraction of a fixed box.

Each objective has an Axis: its reference value (the worst value counted: the reference point's coordinate)
and its ideal value, on a linear or a log10 scale (costs spanning orders of magnitude: a point 10× cheaper
counts the same wherever it lies). A value maps to its goodness u = (v − reference) / (ideal − reference),
clipped to [0, 1]: values beyond the ideal count as the ideal, a point worse than the reference on any axis
adds nothing. The hypervolume is the volume of the union of the boxes [0, u(p)] over the points p: a fraction
of the unit box [0, 1]^k, computed exactly by moocore (the library DEAP's own hypervolume calls).

The axes are fixed before a search (stitchc.evolve.reference_point), so that generations, reruns and
algorithms compare; DEAP's default reference point moves with every call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import moocore
import numpy as np

from .objectives import Evaluation

TINY = 1e-300  # log axes read values <= 0 as this (better than any ideal)


@dataclass(frozen=True)
class Axis:
    reference: float  # the worst value counted
    ideal: float  # the value of goodness 1 (above the reference when maximizing, below when minimizing)
    log: bool = False  # measure on log10 values

    def goodness(self, value: float) -> float:
        """The value's place between the reference (0) and the ideal (1), clipped to [0, 1]."""
        scale = (lambda x: math.log10(max(x, TINY))) if self.log else float
        v, r, i = scale(value), scale(self.reference), scale(self.ideal)
        if i == r:  # a degenerate axis (e.g. constant targets): only the ideal itself counts
            return float(v == i)
        return min(1.0, max(0.0, (v - r) / (i - r)))


def hypervolume(points: list[Evaluation], axes: list[Axis]) -> float:
    """The fraction of the unit box that the points' goodness vectors dominate (0 for no points)."""
    if not points:
        return 0.0
    goodness = np.array([[axis.goodness(v) for v, axis in zip(p.values, axes)] for p in points])
    return float(moocore.hypervolume(1.0 - goodness, ref=np.ones(len(axes))))
