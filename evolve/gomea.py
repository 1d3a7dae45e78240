"""Multi-objective GOMEA with linkage learning (the MO-GOMEA family of Luong, Bosman et al.; the algorithm
family Guijt et al. searched stitched networks with), as a resumable Algorithm.

Each generation:
1. Clustering in objective space: on the goodness vectors (each objective between its fixed reference and
   ideal), one leader per objective (the best on it: an extreme cluster), then farthest-point leaders up to
   CLUSTERS; each cluster is the ⌈2n/CLUSTERS⌉ members nearest its leader (clusters overlap), and every member
   mixes within the cluster of its nearest leader.
2. Linkage learning: a linkage tree over the genes (stitchc.evolve.linkage) from each cluster's genomes.
3. Optimal mixing: every member walks its cluster's FOS in its own random order; for each subset, the genes
   of a random donor of the cluster are copied in, and the change is kept when the candidate dominates the
   member, equals it, or is not dominated by the elitist archive (extreme clusters instead keep changes not
   worse on their own objective). The members mix in parallel, one FOS position at a time, so each position
   is one batch of evaluations; a copy that changes nothing costs nothing.
4. Forced improvement: a member without improvement for more than 1 + log10(n) generations mixes again with
   donors from the elitist archive, keeping only a strict improvement; failing that it becomes an archive
   member.
5. Restart: after RESTART generations in which no member improved, the population has converged; a new one
   of distinct random candidates, twice as large, replaces it and the elitist archive is kept (the spirit of
   the interleaved multi-start scheme that frees MO-GOMEA of a population size).

The initial population holds distinct candidates (repeats would leave optimal mixing nothing to mix).

The elitist archive holds every non-dominated objective vector found (one genome each). Selection is
implicit (acceptance), so no DEAP selection operator applies; the dominance test is our own.
"""

from __future__ import annotations

import math
import random

from .algorithm import Evaluate, Problem, State, dominates, member
from .distinct_sampling import distinct_population
from .linkage import linkage_tree

CLUSTERS = 5
RESTART = 2  # generations without any improvement before the population restarts
MAX_POPULATION = 512


class GOMEA:
    name = "gomea"

    def start(self, problem: Problem, rng: random.Random, evaluate: Evaluate) -> State:
        return _populate(problem, rng, evaluate, problem.population, [], 0)

    def step(self, problem: Problem, state: State, rng: random.Random, evaluate: Evaluate) -> State:
        population, elite = [list(m) for m in state["population"]], [list(m) for m in state["elite"]]
        clusters, home, extreme = _clusters(problem, population)
        trees = [linkage_tree([population[i][0] for i in c], problem.cardinalities) for c in clusters]
        orders = {i: _shuffled(trees[home[i]], rng) for i in range(len(population))}
        improved = [False] * len(population)

        def donors(i: int) -> list:
            members = [j for j in clusters[home[i]] if j != i] or [i]
            return [population[rng.choice(members)][0] for _ in orders[i]]

        def keep(i: int, candidate: list, strict: bool) -> bool:
            return _accept(problem, population[i][1], candidate[1], elite, extreme.get(home[i]), strict)

        spent = _mix(problem, population, elite, orders, {i: donors(i) for i in orders}, evaluate, keep, improved)
        stale = [0 if improved[i] else s + 1 for i, s in enumerate(state["stale"])]
        limit = 1 + math.log10(len(population))
        forced = [i for i, s in enumerate(stale) if s > limit]
        if forced and not spent and elite:
            picks = {i: [rng.choice(elite)[0] for _ in orders[i]] for i in forced}
            done = [False] * len(population)
            _mix(problem, population, elite, {i: orders[i] for i in forced}, picks, evaluate, keep, done, strict=True)
            for i in forced:
                if not done[i]:
                    population[i] = list(rng.choice(elite))
                stale[i] = 0
        idle = 0 if any(improved) else state["idle"] + 1
        if idle >= RESTART and not spent:  # converged: a fresh population twice as large, the archive kept
            size = min(MAX_POPULATION, 2 * len(population))
            return _populate(problem, rng, evaluate, size, elite, state["restarts"] + 1)
        return {"population": population, "elite": elite, "stale": stale, "idle": idle, "restarts": state["restarts"]}


def _populate(problem: Problem, rng: random.Random, evaluate: Evaluate, size: int, elite: list, restarts: int):
    """A state with a new population of distinct candidates (the seeds first) and the elitist archive."""
    genomes = distinct_population(problem, rng, size)
    population = [member(g, e) for g, e in zip(genomes, evaluate(genomes))]
    elite = [list(e) for e in elite]
    for m in population:
        _enter(problem, elite, m)
    stale = [0] * len(population)
    return {"population": population, "elite": elite, "stale": stale, "idle": 0, "restarts": restarts}


def _mix(problem, population, elite, orders, donors, evaluate, keep, improved, strict: bool = False) -> bool:
    """Parallel optimal mixing of the members in `orders` (member → its FOS order; `donors` alike): FOS position
    by position, one batch per position; returns whether the budget ran out. With `strict`, a member stops
    mixing at its first improvement."""
    for position in range(max((len(order) for order in orders.values()), default=0)):
        batch = []
        for i in orders:
            if position >= len(orders[i]) or (strict and improved[i]):
                continue
            genome, subset, donor = list(population[i][0]), orders[i][position], donors[i][position]
            if all(genome[g] == donor[g] for g in subset):
                continue
            for g in subset:
                genome[g] = donor[g]
            batch.append((i, genome))
        evaluations = evaluate([tuple(g) for _, g in batch]) if batch else []
        for (i, genome), evaluation in zip(batch, evaluations):
            candidate = member(genome, evaluation)
            if keep(i, candidate, strict):
                better = dominates(candidate[1], population[i][1], problem.weights)
                entered = _enter(problem, elite, candidate)
                improved[i] = improved[i] or better or entered
                population[i] = candidate
            else:
                _enter(problem, elite, candidate)
        if len(evaluations) < len(batch):
            return True
    return False


def _accept(problem: Problem, current, values, elite, objective: int | None, strict: bool) -> bool:
    """Whether a mixed candidate replaces the member (see the module's docstring)."""
    weights = problem.weights
    if objective is not None:
        gain = weights[objective] * (values[objective] - current[objective])
        return gain > 0 if strict else gain >= 0
    if dominates(values, current, weights):
        return True
    if strict:
        return _novel(problem, elite, values)
    return values == current or _novel(problem, elite, values)


def _novel(problem: Problem, elite: list, values) -> bool:
    return not any(e[1] == values or dominates(e[1], values, problem.weights) for e in elite)


def _enter(problem: Problem, elite: list, candidate: list) -> bool:
    """Adds the candidate to the elitist archive when no member dominates or equals it (dropping those it
    dominates); returns whether it entered."""
    if not _novel(problem, elite, candidate[1]):
        return False
    elite[:] = [e for e in elite if not dominates(candidate[1], e[1], problem.weights)] + [list(candidate)]
    return True


def _clusters(problem: Problem, population: list) -> tuple[list[list[int]], list[int], dict[int, int]]:
    """(clusters as member indices, each member's home cluster, extreme cluster → its objective)."""
    points = [problem.goodness(m[1]) for m in population]

    def distance(a: int, b: int) -> float:
        return math.dist(points[a], points[b])

    leaders: list[int] = []
    extreme: dict[int, int] = {}
    for objective in range(min(len(problem.weights), len(points))):
        best = max((i for i in range(len(points)) if i not in leaders), key=lambda i: (points[i][objective], -i))
        extreme[len(leaders)] = objective
        leaders.append(best)
    while len(leaders) < min(CLUSTERS, len(points)):
        others = [i for i in range(len(points)) if i not in leaders]
        leaders.append(max(others, key=lambda i: (min(distance(i, j) for j in leaders), -i)))
    size = min(len(points), math.ceil(2 * len(points) / len(leaders)))
    clusters = [sorted(range(len(points)), key=lambda i: (distance(i, leader), i))[:size] for leader in leaders]
    home = [min(range(len(leaders)), key=lambda c: (distance(i, leaders[c]), c)) for i in range(len(points))]
    return clusters, home, extreme


def _shuffled(fos: list, rng: random.Random) -> list:
    order = list(fos)
    rng.shuffle(order)
    return order
