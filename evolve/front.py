"""Pareto front of evaluations over any number of objectives, each maximized or minimized."""

from __future__ import annotations

import moocore
import numpy as np

from .objectives import Evaluation


def pareto_front(evaluations: list[Evaluation], weights: tuple[float, ...]) -> list[Evaluation]:
    """Non-dominated evaluations (`weights`: +1 maximize, -1 minimize), one per objective vector: of equal
    vectors, the one with the fewest params, then the smallest genome.

    Ordered by the objectives to minimize in the spec's order (smallest first), then by those to maximize
    (largest first): with [maximize accuracy, minimize macs], the cheapest point comes first."""
    best: dict[tuple[float, ...], Evaluation] = {}
    for e in sorted(evaluations, key=lambda e: (e.params, e.genome)):
        best.setdefault(e.values, e)
    points = list(best.values())
    if not points:
        return []
    costs = -np.array([p.values for p in points], dtype=np.float64) * np.array(weights)  # all minimized
    front = [p for p, keep in zip(points, moocore.is_nondominated(costs)) if keep]
    order = [i for i, w in enumerate(weights) if w < 0] + [i for i, w in enumerate(weights) if w > 0]
    return sorted(front, key=lambda e: tuple(-weights[i] * e.values[i] for i in order))
