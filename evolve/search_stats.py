"""What a search's evaluations cost: candidates evaluated, seconds, and node computations done against needed.

MACs are counted over samples: a candidate of m MACs per sample scored on s samples needs m × s; shared
evaluation does each distinct node computation of a batch once, so `macs_done` ≤ `macs_needed` (equal without
sharing). Recorded in front.json under `stats` (counts of this run: evaluations read back from the run store
cost nothing and are counted in `reused`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SearchStats:
    evaluations: int = 0
    reused: int = 0
    stopped: int = 0  # by racing (their values are estimates from the first slice of the samples)
    macs_needed: int = 0
    macs_done: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        ratio = self.macs_needed / self.macs_done if self.macs_done else 1.0
        return {
            "evaluations": self.evaluations,
            "reused": self.reused,
            "stopped_by_racing": self.stopped,
            "seconds": round(self.seconds, 3),
            "macs_done": self.macs_done,
            "macs_without_sharing": self.macs_needed,
            "sharing": round(ratio, 3),
        }
