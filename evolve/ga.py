"""A genetic algorithm on a scalarised objective, as a resumable Algorithm.

Every population slot j owns a weight vector w_j over the k objectives (evenly spread for k = 2, drawn once
uniformly on the simplex otherwise) and scalarises a candidate by the augmented Tchebycheff distance to the
ideal, s_j = max_i w_ji (1 − u_i) + 0.001 Σ_i (1 − u_i), where u_i is the goodness of objective i between its
fixed reference and ideal (stitchc.evolve.hypervolume.Axis). Each generation every slot breeds one child from
two parents chosen by binary tournaments on s_j among its T nearest slots (by weight), with uniform crossover
and per-gene reset mutation; the child replaces up to two of those neighbours it improves (the replacement
rule of MOEA/D). One scalar GA per direction, sharing genes with its neighbours, so the population spreads
along the front instead of collapsing onto one point.

The tournament and replacement are our own: DEAP's `selTournament` compares one fitness per individual, and
here a candidate's fitness depends on the slot that judges it. The initial population holds distinct
candidates (the seeds first).
"""

from __future__ import annotations

import math
import random

from deap import tools

from .algorithm import Evaluate, Problem, State, member
from .distinct_sampling import distinct_population

REPLACEMENTS = 2  # neighbours a child may replace


def scalar(problem: Problem, values: list[float], weight: list[float]) -> float:
    """The augmented Tchebycheff distance of the values to the ideal under `weight` (smaller is better)."""
    gaps = [1.0 - u for u in problem.goodness(values)]
    return max(w * g for w, g in zip(weight, gaps)) + 1e-3 * sum(gaps)


def spread_weights(count: int, objectives: int, rng: random.Random) -> list[list[float]]:
    """`count` weight vectors on the simplex: evenly spaced for two objectives, uniform draws otherwise."""
    if objectives == 2:
        return [[j / max(1, count - 1), 1.0 - j / max(1, count - 1)] for j in range(count)]
    draws = [[-math.log(1.0 - rng.random()) for _ in range(objectives)] for _ in range(count)]
    return [[d / sum(row) for d in row] for row in draws]


def neighbours(weights: list[list[float]], size: int) -> list[list[int]]:
    """For each slot, the `size` slots of nearest weight (itself first)."""
    return [
        sorted(range(len(weights)), key=lambda j: (sum((a - b) ** 2 for a, b in zip(w, weights[j])), j))[:size]
        for w in weights
    ]


class ScalarisedGA:
    name = "ga"

    def __init__(self, crossover: float = 0.9):
        self.crossover = crossover

    def start(self, problem: Problem, rng: random.Random, evaluate: Evaluate) -> State:
        genomes = distinct_population(problem, rng, problem.population)
        members = [member(g, e) for g, e in zip(genomes, evaluate(genomes))]
        return {"population": members, "weights": spread_weights(len(members), len(problem.weights), rng)}

    def step(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate) -> State:
        population, weights = state["population"], state["weights"]
        near = neighbours(weights, max(3, len(population) // 8))
        children = []
        for j, weight in enumerate(weights):
            first, second = (list(self._tournament(problem, population, near[j], weight, rng)) for _ in range(2))
            if rng.random() < self.crossover:
                tools.cxUniform(first, second, 0.5)
            problem.mutate(rng, first)
            children.append(tuple(first))
        population = [list(m) for m in population]
        for j, evaluation in enumerate(evaluate(children)):
            replaced, candidates = 0, list(near[j])
            rng.shuffle(candidates)
            for slot in candidates:
                if replaced < REPLACEMENTS and scalar(problem, evaluation.values, weights[slot]) < scalar(
                    problem, population[slot][1], weights[slot]
                ):
                    population[slot] = member(children[j], evaluation)
                    replaced += 1
        return {"population": population, "weights": weights}

    @staticmethod
    def _tournament(problem: Problem, population: list, slots: list[int], weight, rng: random.Random) -> list[int]:
        a, b = population[rng.choice(slots)], population[rng.choice(slots)]
        return a[0] if scalar(problem, a[1], weight) <= scalar(problem, b[1], weight) else b[0]
