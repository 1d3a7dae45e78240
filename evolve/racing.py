"""Racing (off by default; `racing = 0.95` in a search block): stop candidates that cannot reach the front.

A batch is first scored on the first RACE_FRACTION of each split's samples (whole sample batches). For each
candidate, every data objective gets an optimistic bound on its value over the whole split: the slice's mean
plus Hoeffding's margin sqrt(ln(1 / (1 - confidence)) / (2 n)) for the samples not seen yet (metrics are means
of per-sample scores in [0, 1]: accuracy, top5, topk), clipped to [0, 1]; cost objectives are exact. A
candidate whose optimistic vector is dominated by a fully evaluated point of the archive cannot be on the final
front with that confidence: it is stopped, and keeps the values measured on the slice. The others are scored on
the rest of the samples and get exactly the values they would get without racing.

This changes results: a stopped candidate's values are estimates from fewer samples, and the search's
selection sees them (a true front point is lost when the bound was wrong; the confidence bounds how often, per
candidate). The run store keys evaluations by the racing setting, so a run with racing never reuses values of a
run without, nor the reverse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RACE_FRACTION = 0.25


@dataclass
class Racing:
    confidence: float
    apply: bool = True  # False: only record what would be stopped (bench/eval_engine.py measures that)
    stopped: list = field(default_factory=list)  # genomes stopped (or that would have been), in order

    def first_rows(self, length: int, batch: int) -> int:
        """Samples of the first slice: RACE_FRACTION of the split, in whole batches (at least one)."""
        return min(length, max(1, round(length * RACE_FRACTION / batch)) * batch)

    def optimistic(self, value: float, weight: float, seen: int, total: int) -> float:
        """The best a mean over `total` samples can be, with this confidence, given its mean on `seen`."""
        if seen >= total:
            return value
        margin = math.sqrt(math.log(1 / (1 - self.confidence)) / (2 * seen))
        rest = min(1.0, max(0.0, value + margin * weight))
        return (seen * value + (total - seen) * rest) / total

    def hopeless(self, optimistic: tuple[float, ...], front: list[tuple[float, ...]], weights) -> bool:
        """True when a point of `front` dominates the optimistic values (`weights`: +1 maximize, -1 minimize)."""
        return any(_dominates(point, optimistic, weights) for point in front)


def _dominates(a: tuple[float, ...], b: tuple[float, ...], weights) -> bool:
    better = [w * x >= w * y for x, y, w in zip(a, b, weights)]
    return all(better) and any(w * x > w * y for x, y, w in zip(a, b, weights))
