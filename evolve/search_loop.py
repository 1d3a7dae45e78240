"""The search loop: runs an algorithm generation by generation under a budget of distinct evaluations,
records the anytime hypervolume, and checkpoints its whole state after every generation.

Guarantees:
- Budget: the search evaluates at most `budget` distinct candidates (distinct canonical genomes; repeats
  are free and not counted), and stops once it has. Without a budget, `generations` bounds the search.
- Stagnation: a search that finds no new candidate for PATIENCE generations in a row stops (a small space
  can be exhausted before the budget).
- Determinism: seeded (`random.Random(seed)` for the algorithm, the global generator for DEAP's operators);
  the algorithm's state goes through JSON after every generation whether or not it is saved, so a search
  resumed from a checkpoint takes exactly the path of an uninterrupted one.
- Resume: with a checkpoint (an object with `load() -> str | None` and `save(str)`), the search continues
  from the last completed generation; a finished search returns its archive without stepping or
  evaluating anything new (the archive is read back through `evaluate`, which a run store answers).
- Anytime quality: with the problem's axes, the hypervolume of the archive after every generation
  (`history`) and after every distinct evaluation that raised it (`anytime`), so algorithms compare at
  equal budgets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from stitchc.stitch.decode import Genome

from .algorithm import Algorithm, Evaluate, Problem, dominates
from .hypervolume import hypervolume
from .objectives import Evaluation

PATIENCE = 20  # generations without a new distinct candidate before a search stops


@dataclass
class SearchResult:
    archive: list[Evaluation]  # every distinct candidate evaluated, in order of first evaluation
    history: list[tuple[int, int, float]]  # after each generation: (generation, distinct evaluations, hypervolume)
    anytime: list[tuple[int, int, float]]  # where the hypervolume rose: (distinct evaluations, generation, value)
    stepped: int = 0  # generations stepped by this call (0: a finished search reopened)
    resumed_from: int | None = None  # the checkpointed generation this call continued from
    stop: str = ""  # why the search ended: "budget", "generations", "done" or "stalled"


@dataclass
class _Tracker:
    """The archive and its anytime hypervolume, grown one distinct evaluation at a time."""

    problem: Problem
    archive: dict[Genome, Evaluation] = field(default_factory=dict)
    front: list[Evaluation] = field(default_factory=list)
    value: float = 0.0
    anytime: list[tuple[int, int, float]] = field(default_factory=list)
    generation: int = 0

    def add(self, evaluation: Evaluation, record: bool = True) -> None:
        self.archive[evaluation.genome] = evaluation
        if self.problem.axes is None:
            return
        weights = self.problem.weights
        if any(f.values == evaluation.values or dominates(f.values, evaluation.values, weights) for f in self.front):
            return
        self.front = [f for f in self.front if not dominates(evaluation.values, f.values, weights)] + [evaluation]
        value = hypervolume(self.front, self.problem.axes)
        if value > self.value and record:
            self.anytime.append((len(self.archive), self.generation, value))
        self.value = value


class _Budgeted:
    """`evaluate` limited to a budget of distinct candidates: evaluates the longest prefix that fits."""

    def __init__(self, evaluate: Evaluate, tracker: _Tracker, budget: int | None):
        self.evaluate, self.tracker, self.budget = evaluate, tracker, budget

    @property
    def spent(self) -> bool:
        return self.budget is not None and len(self.tracker.archive) >= self.budget

    def __call__(self, genomes: list[Genome]) -> list[Evaluation]:
        taken, new, key = [], set(), self.tracker.problem.key
        for genome in genomes:
            k = key(tuple(genome))
            if k not in self.tracker.archive and k not in new:
                if self.budget is not None and len(self.tracker.archive) + len(new) >= self.budget:
                    break
                new.add(k)
            taken.append(tuple(genome))
        results = self.evaluate(taken) if taken else []
        for evaluation in results:
            if evaluation.genome not in self.tracker.archive:
                self.tracker.add(evaluation)
        return results


def search(
    algorithm: Algorithm,
    problem: Problem,
    evaluate: Evaluate,
    seed: int,
    generations: int | None = None,
    budget: int | None = None,
    checkpoint=None,
    report: Callable[[int, list[Evaluation], float], None] | None = None,
) -> SearchResult:
    """Runs `algorithm` on `problem` until the budget, the generations, stagnation or the algorithm ends it;
    `report(generation, archive, hypervolume)` is told after each generation (the archive: every distinct
    candidate evaluated so far)."""
    tracker = _Tracker(problem)
    budgeted = _Budgeted(evaluate, tracker, budget)
    saved = json.loads(checkpoint.load() or "null") if checkpoint is not None else None
    outer = random.getstate()
    try:
        if saved is None:
            rng = random.Random(seed)
            random.seed(seed)  # DEAP's operators draw from the global generator
            state = json.loads(json.dumps(algorithm.start(problem, rng, budgeted)))
            history = [(0, len(tracker.archive), tracker.value)]
            generation, stalled, resumed = 0, 0, None
            if report:
                report(0, list(tracker.archive.values()), tracker.value)
            _save(checkpoint, state, 0, stalled, rng, tracker, history, False)
        else:
            rng, state, generation, stalled, history = _restore(saved, evaluate, tracker)
            resumed = generation
            if saved["finished"]:
                return SearchResult(list(tracker.archive.values()), history, tracker.anytime, 0, resumed, saved["stop"])
        stepped = 0
        while True:
            stop = _stop(generation, generations, budgeted, state, stalled)
            if stop:
                break
            before = len(tracker.archive)
            tracker.generation = generation + 1
            state = json.loads(json.dumps(algorithm.step(problem, state, rng, budgeted)))
            generation, stepped = generation + 1, stepped + 1
            stalled = 0 if len(tracker.archive) > before else stalled + 1
            history.append((generation, len(tracker.archive), tracker.value))
            if report:
                report(generation, list(tracker.archive.values()), tracker.value)
            _save(checkpoint, state, generation, stalled, rng, tracker, history, False)
        _save(checkpoint, state, generation, stalled, rng, tracker, history, True, stop)
        return SearchResult(list(tracker.archive.values()), history, tracker.anytime, stepped, resumed, stop)
    finally:
        random.setstate(outer)


def search_run_key(algorithm: str, population: int, generations: int | None, budget: int | None, seed: int) -> str:
    """What identifies one run of a search among the checkpoints of a run store: its algorithm's settings."""
    return json.dumps(
        {
            "algorithm": algorithm,
            "population": population,
            "generations": generations,
            "budget": budget,
            "seed": seed,
            "format": 1,
        }
    )


def _stop(generation: int, generations: int | None, budgeted: _Budgeted, state: dict, stalled: int) -> str:
    if budgeted.spent:
        return "budget"
    if generations is not None and generation >= generations:
        return "generations"
    if state.get("done"):
        return "done"
    return "stalled" if stalled >= PATIENCE else ""


def _save(checkpoint, state, generation, stalled, rng, tracker, history, finished, stop="") -> None:
    if checkpoint is None:
        return
    document = {
        "generation": generation,
        "stalled": stalled,
        "state": state,
        "rng": rng.getstate(),
        "global_rng": random.getstate(),
        "archive": [list(g) for g in tracker.archive],
        "history": history,
        "anytime": tracker.anytime,
        "finished": finished,
        "stop": stop,
    }
    checkpoint.save(json.dumps(document))


def _restore(saved: dict, evaluate: Evaluate, tracker: _Tracker):
    """The checkpoint's generators, state and archive (its evaluations read back through `evaluate`)."""
    rng = random.Random()
    rng.setstate(_rng_state(saved["rng"]))
    random.setstate(_rng_state(saved["global_rng"]))
    genomes = [tuple(g) for g in saved["archive"]]
    for evaluation in evaluate(genomes) if genomes else []:
        tracker.add(evaluation, record=False)
    tracker.anytime = [tuple(a) for a in saved["anytime"]]
    tracker.generation = saved["generation"]
    history = [tuple(h) for h in saved["history"]]
    return rng, saved["state"], saved["generation"], saved["stalled"], history


def _rng_state(document: list) -> tuple:
    version, internal, gauss = document
    return version, tuple(internal), gauss
