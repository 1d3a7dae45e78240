"""Random search, the baseline: distinct random candidates until the budget is spent.

Candidates are drawn sparse (each switch leaves its parent with a small probability, as the initial
population of every algorithm); repeats of a candidate already drawn (canonical repeats included) are
redrawn, so a budget of N gives N distinct candidates. Sparse sampling of a small space soon draws only
repeats: after STALL repeats in a row it switches for good to uniform genomes, and after EXHAUSTED repeats in
a row of those the space is taken as exhausted (the state says `done`).
"""

from __future__ import annotations

import random

from .algorithm import Evaluate, Problem, State

BATCH = 64  # candidates per generation (the unit of evaluation batches and checkpoints)
STALL = 200  # repeats in a row before sparse sampling gives way to uniform sampling
EXHAUSTED = 20_000  # repeats in a row of uniform sampling before the space counts as exhausted


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
        sparse, repeats = state["sparse"], 0
        while len(seen) - len(state["seen"]) < wanted:
            genome = problem.sample(rng) if sparse else tuple(rng.randrange(n) for n in problem.cardinalities)
            key = problem.key(tuple(genome))
            if key not in seen:
                seen.add(key)
                batch.append(tuple(genome))
                repeats = 0
                continue
            repeats += 1
            if sparse and repeats >= STALL:
                sparse, repeats = False, 0
            elif not sparse and repeats >= EXHAUSTED:
                break
        evaluated = evaluate(batch)
        seen = dict.fromkeys([tuple(g) for g in state["seen"]] + [e.genome for e in evaluated])
        done = len(evaluated) < len(batch) or (not sparse and repeats >= EXHAUSTED)
        return {"sparse": sparse, "done": done, "seen": [list(g) for g in seen]}
