"""The interface every search algorithm implements, and the problem it is handed.

An algorithm is a pair of pure steps over a plain, JSON-serialisable state (lists, numbers, strings):
`start(problem, rng, evaluate)` makes the initial population, `step(problem, state, rng, evaluate)` one
generation. It keeps nothing between calls: the search loop (stitchc.evolve.search_loop) owns the state, the
random generators and the archive, checkpoints them after every generation and hands them back, so a resumed
search and an uninterrupted one take the same path. `evaluate(genomes)` returns the evaluations of a prefix of
the genomes: shorter than asked once the budget of distinct evaluations is spent (the algorithm then uses what
it got; the loop stops after the step). A state with `"done": True` ends the search (nothing new to try).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from stitchc.stitch.decode import Genome

from .hypervolume import Axis
from .objectives import Evaluation

Evaluate = Callable[[list[Genome]], list[Evaluation]]
State = dict


@dataclass
class Problem:
    """What an algorithm knows of the search: the genes, how to sample and compare genomes, the objectives."""

    cardinalities: list[int]  # options per gene
    sample: Callable[[random.Random], Genome]  # a sparse random genome
    weights: tuple[float, ...]  # +1 maximize, -1 minimize, per objective
    population: int
    seeds: list[Genome] = field(default_factory=list)  # genomes the initial population starts with
    key: Callable[[Genome], Genome] = tuple  # the canonical genome (equal keys: the same candidate)
    axes: list[Axis] | None = None  # the hypervolume's reference and ideal: scalarising algorithms need them

    def initial(self, rng: random.Random) -> list[Genome]:
        """The seeds, then sparse random genomes, `population` in all."""
        genomes = [tuple(g) for g in self.seeds][: self.population]
        return genomes + [tuple(self.sample(rng)) for _ in range(self.population - len(genomes))]

    def goodness(self, values: tuple[float, ...] | list[float]) -> list[float]:
        """Each objective's place between its reference (0) and ideal (1); without axes, the values signed so
        that larger is better."""
        if self.axes is None:
            return [w * v for w, v in zip(self.weights, values)]
        return [axis.goodness(v) for axis, v in zip(self.axes, values)]

    def mutate(self, rng: random.Random, genome: list[int]) -> None:
        """Per-gene reset to another option, each gene with probability 1/length."""
        rate = 1.0 / len(genome)
        for index, size in enumerate(self.cardinalities):
            if size > 1 and rng.random() < rate:
                genome[index] = (genome[index] + rng.randrange(1, size)) % size


class Algorithm(Protocol):
    name: str

    def start(self, problem: Problem, rng: random.Random, evaluate: Evaluate) -> State: ...

    def step(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate) -> State: ...


def dominates(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...], weights) -> bool:
    """Whether values `a` Pareto-dominate `b` under the directions `weights`."""
    better = [w * (x - y) for w, x, y in zip(weights, a, b)]
    return all(d >= 0 for d in better) and any(d > 0 for d in better)


def member(genome: Genome, evaluation: Evaluation) -> list:
    """An evaluated genome as state: [genome as given (inactive genes kept), values]."""
    return [list(genome), list(evaluation.values)]
