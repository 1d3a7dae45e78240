"""NSGA-II over categorical genomes with DEAP's operators, as a resumable Algorithm.

Each generation: binary tournament on rank and crowding (`selTournamentDCD`), uniform crossover, per-gene
reset mutation, `selNSGA2` survival of parents and offspring. Any number of objectives, each maximized or
minimized (the fitness weights are +1 and -1). DEAP's operators draw from the global `random` generator,
which the search loop seeds and checkpoints; DEAP individuals live only inside a step (the state holds
plain genomes and values).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from deap import base, creator, tools

from stitchc.stitch.decode import Genome

from .algorithm import Evaluate, Problem, State, member
from .objectives import Evaluation
from .search_loop import search


def individual_class(weights: tuple[float, ...]) -> type:
    """The DEAP individual class for these fitness weights, made once per weight vector. (Individuals never
    leave the process: workers receive genomes as tuples, so the classes need not exist at unpickling.)"""
    suffix = "".join("x" if w > 0 else "n" for w in weights)
    if not hasattr(creator, f"StitchIndividual_{suffix}"):
        creator.create(f"StitchFitness_{suffix}", base.Fitness, weights=weights)
        creator.create(f"StitchIndividual_{suffix}", list, fitness=getattr(creator, f"StitchFitness_{suffix}"))
    return getattr(creator, f"StitchIndividual_{suffix}")


def individuals(problem: Problem, members: list) -> list:
    """DEAP individuals of state members [genome, values]."""
    individual = individual_class(tuple(problem.weights))
    made = []
    for genome, values in members:
        made.append(individual(genome))
        made[-1].fitness.values = tuple(values)
    return made


def assess(problem: Problem, evaluate: Evaluate, genomes: list[Genome]) -> list:
    """The genomes evaluated (a prefix once the budget is spent), as DEAP individuals."""
    genomes = [tuple(g) for g in genomes]
    return individuals(problem, [member(g, e) for g, e in zip(genomes, evaluate(genomes))])


class NSGA2:
    name = "nsga2"

    def __init__(self, crossover: float = 0.9):
        self.crossover = crossover

    def start(self, problem: Problem, rng: random.Random, evaluate: Evaluate) -> State:
        population = tools.selNSGA2(assess(problem, evaluate, problem.initial(rng)), problem.population)
        return {"population": [[list(i), list(i.fitness.values)] for i in population]}

    def step(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate) -> State:
        population = tools.selNSGA2(individuals(problem, state["population"]), len(state["population"]))
        parents = tools.selTournamentDCD(population, len(population) - len(population) % 4)
        offspring = [list(i) for i in parents]
        for first, second in zip(offspring[::2], offspring[1::2]):
            if rng.random() < self.crossover:
                tools.cxUniform(first, second, 0.5)
        for child in offspring:
            problem.mutate(rng, child)
        survivors = tools.selNSGA2(population + assess(problem, evaluate, offspring), problem.population)
        return {"population": [[list(i), list(i.fitness.values)] for i in survivors]}


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
) -> list[Evaluation]:
    """NSGA-II for `generations` generations without a budget or checkpoint; returns every distinct
    evaluation made, in order."""
    problem = Problem(list(cardinalities), sample, tuple(weights), population, list(seeds))
    return search(NSGA2(crossover), problem, evaluate, seed, generations=generations).archive
