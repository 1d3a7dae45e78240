"""What one run of a PassManager did: why it stopped, how many rounds it ran, which pass changed the graph."""

from __future__ import annotations

from dataclasses import dataclass, field

FIXPOINT = "fixpoint"  # a whole round changed nothing
ROUND_LIMIT = "round limit"  # every one of max_rounds rounds changed something
SINGLE_RUN = "single run"  # not a fixpoint pipeline: the passes ran once


@dataclass
class RunReport:
    stop: str = SINGLE_RUN
    rounds: int = 0
    changes: dict[str, int] = field(default_factory=dict)  # pass name -> how many of its runs changed the graph

    def __str__(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.changes.items())
        return f"stopped: {self.stop} after {self.rounds} round{'s' * (self.rounds != 1)}; changes: {counts}"
