"""Random search, the baseline: distinct random candidates until the budget is spent.

Candidates are drawn sparse (each switch leaves its parent with a small probability, as the initial
population of every algorithm); repeats of a candidate already drawn (canonical repeats included) are
redrawn, so a budget of N gives N distinct candidates (stitchc.evolve.distinct_sampling: sparse, then
uniform where sparse sampling stalls; a space exhausted before the budget ends the search, `done`).
"""

from __future__ import annotations

import random

from .algorithm import Evaluate, Problem, State
from .distinct_sampling import draw_distinct

BATCH = 64  # candidates per generation (the unit of evaluation batches and checkpoints)


class RandomSearch:
    name = "random"

    def __init__(self, budget: int | None = None):
        self.budget = budget

    def start(self, problem: Problem, rng: random.Random, evaluate: Evaluate) -> State:
        """The seeds, then the first batch."""
        state = {"sparse": True, "done": False, "seen": []}
        return self._draw(problem, state, rng, evaluate, [tuple(g) for g in problem.seeds])

    def step(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate) -> State:
        return self._draw(problem, state, rng, evaluate, [])

    def _draw(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate, batch: list) -> State:
        seen = {tuple(g) for g in state["seen"]} | {problem.key(g) for g in batch}
        wanted = BATCH if self.budget is None else min(BATCH, self.budget - len(state["seen"]))
        drawn, sparse, exhausted = draw_distinct(
            problem, rng, wanted - len(seen) + len(state["seen"]), seen, state["sparse"]
        )
        evaluated = evaluate(batch + drawn)
        seen = dict.fromkeys([tuple(g) for g in state["seen"]] + [e.genome for e in evaluated])
        done = len(evaluated) < len(batch) + len(drawn) or exhausted
        return {"sparse": sparse, "done": done, "seen": [list(g) for g in seen]}
