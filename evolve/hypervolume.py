"""Two-objective hypervolume (accuracy up, MACs down) against a fixed reference box, on a log MACs axis.

MACs of candidates span orders of magnitude, so the cost axis is log10(MACs): a point 10× cheaper
counts the same wherever it lies. The box is accuracy [0, 1] × log MACs [log `lower`, log `upper`],
fixed for a run so that generations and reruns compare (DEAP's default reference moves with every
call); points costing more than `upper` are left out, cheaper than `lower` count from `lower`. The value
is the dominated fraction of the box.
"""

from __future__ import annotations

import math

from .front import pareto_front
from .objectives import Evaluation


def hypervolume(points: list[Evaluation], lower: float, upper: float) -> float:
    low, high = math.log10(lower), math.log10(upper)
    front = pareto_front([p for p in points if p.macs <= upper])  # sorted by MACs, accuracy rising
    area = 0.0
    for point, following in zip(front, [*front[1:], None]):
        left = max(low, math.log10(max(point.macs, 1)))
        right = math.log10(following.macs) if following is not None else high
        area += point.accuracy * max(0.0, min(right, high) - left)
    return area / (high - low)
