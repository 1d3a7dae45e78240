"""NSGA-II over categorical genomes with DEAP, seeded and deterministic; keeps every evaluation as an archive.

The loop is ours (DEAP's built-in algorithms take no seed): binary tournament on rank and crowding
(`selTournamentDCD`), uniform crossover, per-gene reset mutation, `selNSGA2` survival.
"""

from __future__ import annotations

import random
from typing import Callable

from deap import base, creator, tools

from stitchc.stitch.decode import Genome
from .objectives import Evaluation

if not hasattr(creator, "StitchFitness"):  # created at import so pickled individuals can be restored
    creator.create("StitchFitness", base.Fitness, weights=(1.0, -1.0))
    creator.create("StitchIndividual", list, fitness=creator.StitchFitness)


def nsga2(
    cardinalities: list[int],
    evaluate: Callable[[list[Genome]], list[Evaluation]],
    population: int,
    generations: int,
    seed: int,
    sample: Callable[[random.Random], Genome],
    seeds: list[Genome] = (),
    crossover: float = 0.9,
    report: Callable[[int, list[Evaluation]], None] | None = None,
) -> list[Evaluation]:
    """Runs NSGA-II; `evaluate` maps a list of genomes to their evaluations (a batch per generation),
    `sample` draws an initial genome, `report(generation, archive)` is told after each generation.
    Returns every distinct evaluation made (the archive the front is taken from)."""
    state = random.getstate()
    random.seed(seed)  # DEAP's operators draw from the global generator
    try:
        rng = random.Random(seed)
        archive: dict[Genome, Evaluation] = {}

        def assess(individuals) -> None:
            for individual, evaluation in zip(individuals, evaluate([tuple(i) for i in individuals])):
                archive[evaluation.genome] = evaluation
                individual.fitness.values = (evaluation.accuracy, evaluation.macs)

        genomes = list(seeds)[:population]
        genomes += [sample(rng) for _ in range(population - len(genomes))]
        pop = [creator.StitchIndividual(g) for g in genomes]
        assess(pop)
        pop = tools.selNSGA2(pop, population)
        if report:
            report(0, list(archive.values()))
        for generation in range(1, generations + 1):
            offspring = [creator.StitchIndividual(i) for i in tools.selTournamentDCD(pop, population)]
            for first, second in zip(offspring[::2], offspring[1::2]):
                if rng.random() < crossover:
                    tools.cxUniform(first, second, 0.5)
            for individual in offspring:
                _mutate(rng, individual, cardinalities)
            assess(offspring)
            pop = tools.selNSGA2(pop + offspring, population)
            if report:
                report(generation, list(archive.values()))
        return list(archive.values())
    finally:
        random.setstate(state)


def _mutate(rng: random.Random, individual: list[int], cardinalities: list[int]) -> None:
    rate = 1.0 / len(individual)
    for index, size in enumerate(cardinalities):
        if size > 1 and rng.random() < rate:
            individual[index] = (individual[index] + rng.randrange(1, size)) % size
