"""Drawing candidates not seen before: sparse random genomes, then uniform ones where sparse sampling stalls.

Sparse sampling (each switch leaves its parent with a small probability, Guijt et al.) of a small space soon
draws only repeats; after STALL repeats in a row the sampler switches for good to uniform genomes, and after
EXHAUSTED repeats in a row of those the space counts as exhausted.
"""

from __future__ import annotations

import random

from .algorithm import Problem

STALL = 200  # repeats in a row before sparse sampling gives way to uniform sampling
EXHAUSTED = 20_000  # repeats in a row of uniform sampling before the space counts as exhausted


def draw_distinct(
    problem: Problem, rng: random.Random, count: int, seen: set, sparse: bool = True
) -> tuple[list[tuple[int, ...]], bool, bool]:
    """Up to `count` genomes whose canonical keys are not in `seen` nor repeated (`seen` grows by them): sparse,
    then uniform after STALL repeats in a row. Returns (genomes, still sparse, space exhausted)."""
    drawn, repeats = [], 0
    while len(drawn) < count:
        genome = problem.sample(rng) if sparse else tuple(rng.randrange(n) for n in problem.cardinalities)
        key = problem.key(tuple(genome))
        if key not in seen:
            seen.add(key)
            drawn.append(tuple(genome))
            repeats = 0
            continue
        repeats += 1
        if sparse and repeats >= STALL:
            sparse, repeats = False, 0
        elif not sparse and repeats >= EXHAUSTED:
            return drawn, sparse, True
    return drawn, sparse, False


def distinct_population(problem: Problem, rng: random.Random, size: int, seen: set | None = None) -> list:
    """The seeds (one per candidate), then distinct random genomes: `size` in all where the space allows."""
    seen = set() if seen is None else seen
    genomes = []
    for genome in problem.seeds:
        if problem.key(tuple(genome)) not in seen and len(genomes) < size:
            seen.add(problem.key(tuple(genome)))
            genomes.append(tuple(genome))
    return genomes + draw_distinct(problem, rng, size - len(genomes), seen)[0]
