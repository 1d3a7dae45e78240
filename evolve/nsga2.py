"""NSGA-II over categorical genomes with DEAP, seeded and deterministic; keeps every evaluation as an archive.

The loop is ours (DEAP's built-in algorithms take no seed): binary tournament on rank and crowding
(`selTournamentDCD`), uniform crossover, per-gene reset mutation, `selNSGA2` survival. Any number of
objectives, each maximized or minimized (the fitness weights are +1 and -1). The random baseline is this
loop with no generations: the initial population alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from deap import base, creator, tools

from stitchc.stitch.decode import Genome

from .objectives import Evaluation


def individual_class(weights: tuple[float, ...]) -> type:
    """The DEAP individual class for these fitness weights, made once per weight vector. (Individuals never
    leave the process: workers receive genomes as tuples, so the classes need not exist at unpickling.)"""
    suffix = "".join("x" if w > 0 else "n" for w in weights)
    if not hasattr(creator, f"StitchIndividual_{suffix}"):
        creator.create(f"StitchFitness_{suffix}", base.Fitness, weights=weights)
        creator.create(f"StitchIndividual_{suffix}", list, fitness=getattr(creator, f"StitchFitness_{suffix}"))
    return getattr(creator, f"StitchIndividual_{suffix}")


def nsga2(
    cardinalities: list[int],
    evaluate: Callable[[list[Genome]], list[Evaluation]],
    population: int,
    generations: int,
    seed: int,
    sample: Callable[[random.Random], Genome],
    weights: tuple[float, ...],
    seeds: list[Genome] = (),
    crossover: float = 0.9,
    report: Callable[[int, list[Evaluation]], None] | None = None,
) -> list[Evaluation]:
    """Runs NSGA-II; `evaluate` maps a list of genomes to their evaluations (a batch per generation),
    `sample` draws an initial genome, `weights` give each objective's direction (+1 maximize, -1 minimize),
    `report(generation, archive)` is told after each generation.
    Returns every distinct evaluation made (the archive the front is taken from)."""
    state = random.getstate()
    random.seed(seed)  # DEAP's operators draw from the global generator
    try:
        rng = random.Random(seed)
        individual = individual_class(tuple(weights))
        archive: dict[Genome, Evaluation] = {}

        def assess(individuals) -> None:
            for member, evaluation in zip(individuals, evaluate([tuple(i) for i in individuals])):
                archive[evaluation.genome] = evaluation
                member.fitness.values = evaluation.values

        genomes = list(seeds)[:population]
        genomes += [sample(rng) for _ in range(population - len(genomes))]
        pop = [individual(g) for g in genomes]
        assess(pop)
        pop = tools.selNSGA2(pop, population)
        if report:
            report(0, list(archive.values()))
        for generation in range(1, generations + 1):
            offspring = [individual(i) for i in tools.selTournamentDCD(pop, population)]
            for first, second in zip(offspring[::2], offspring[1::2]):
                if rng.random() < crossover:
                    tools.cxUniform(first, second, 0.5)
            for child in offspring:
                _mutate(rng, child, cardinalities)
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
