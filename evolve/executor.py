"""Evaluate many genomes at once: in this process, or in a pool of worker processes.

Workers start with `spawn` (never `fork`: ONNX Runtime's threads do not survive a fork). Each receives,
once at start-up, the evaluator without its genome space (data and objectives only) and a SpaceRecipe (the
supernet as ONNX bytes and the genome space's flat description), and rebuilds the space from it: never the
deep object graph of the IR, whose pickling overflows the stack on real networks. Results do not depend on
the number of workers or the order of completion, so runs stay deterministic.

Shared evaluation (stitchc.evolve.batch_evaluation) shards by samples: every worker runs the whole batch of
candidates on a slice of the samples, always the same slice, and keeps its own activation cache (its share of
the budget); a Ray executor needs only to map score tasks the same way.
"""

from __future__ import annotations

import copy
import functools
import multiprocessing
import os
import queue
import signal
from collections.abc import Iterable, Iterator

from stitchc.stitch.decode import Genome

from .activation_cache import ActivationCache
from .batch_evaluation import evaluate_batch
from .objectives import Evaluation, Evaluator
from .population_graph import Signatures
from .shared_evaluation import ScoreTask
from .space_recipe import SpaceRecipe

_worker_evaluator: Evaluator | None = None
PARALLEL_WORK = 2e9  # MACs per evaluation above which worker processes repay their start-up (~2 s)


def auto_workers(macs_per_sample: int, samples: int) -> int:
    """One process for cheap evaluations; every core once an evaluation costs more than PARALLEL_WORK.
    (MNIST parents, 20 M MACs × 1,000 samples: 2 workers took 41 s against 64 s for one.)"""
    if macs_per_sample * samples < PARALLEL_WORK:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def without_space(evaluator: Evaluator, workers: int) -> Evaluator:
    """What one of `workers` workers receives besides the recipe: the evaluator's data and objectives, no space,
    an empty cache, its share of the activation cache's budget (each holds the activations of its samples)."""
    shell = copy.copy(evaluator)
    shell.space, shell.cache, shell.batch_graphs = None, {}, {}
    shell.signatures = Signatures(evaluator.signatures.points)
    shell.activations = ActivationCache(evaluator.activations.budget // max(1, workers))
    return shell


def _start_worker(recipe: SpaceRecipe, evaluator: Evaluator) -> None:
    global _worker_evaluator
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent stops the pool
    evaluator.space = recipe.build()
    _worker_evaluator = evaluator


def _evaluate_in_worker(genome: Genome) -> Evaluation:
    return _worker_evaluator(genome)


def _scores_in_worker(task: ScoreTask):
    return _worker_evaluator.scores(task)


class Executor:
    """Maps genomes to evaluations, sharing the evaluator's cache; `workers` > 1 uses processes.
    New evaluations go to `store` (a RunStore) when one is given, each committed as it completes, by this
    process only. With a shared evaluator, the missing genomes of a call are scored together, the workers
    sharding the samples (see stitchc.evolve.shared_evaluation): the k-th slice always goes to the k-th worker,
    so the activations a worker keeps are of the samples it is sent again. Whole evaluations (trained searches)
    go to whichever worker is free."""

    def __init__(self, evaluator: Evaluator, workers: int = 1, store=None):
        self.evaluator = evaluator
        self.workers = workers
        self.store = store
        self.pools: list = []  # one single-process pool per worker: a task can be sent to a chosen worker

    def __enter__(self) -> Executor:
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")
            recipe = SpaceRecipe.of(self.evaluator.space)
            initargs = (recipe, without_space(self.evaluator, self.workers))
            self.pools = [context.Pool(1, _start_worker, initargs) for _ in range(self.workers)]
        return self

    def __exit__(self, *exc) -> None:
        for pool in self.pools:
            pool.terminate()
        for pool in self.pools:
            pool.join()

    def _run(self, tasks: list[ScoreTask]) -> list:
        """Score tasks' results in order: task k on worker k (modulo the workers) when there are several tasks,
        else here."""
        if self.pools and len(tasks) > 1:
            pending = [
                self.pools[k % len(self.pools)].apply_async(_scores_in_worker, (t,)) for k, t in enumerate(tasks)
            ]
            return [result.get() for result in pending]
        return [self.evaluator.scores(task) for task in tasks]

    def map(self, genomes: list[Genome]) -> list[Evaluation]:
        keys = [self.evaluator.key(g) for g in genomes]
        missing = list(dict.fromkeys(k for k in keys if k not in self.evaluator.cache))
        if self.evaluator.shared and missing:
            evaluate_batch(self.evaluator, missing, self._run, self.workers)  # caches and counts them
            done = (self.evaluator.cache[k] for k in missing)
        elif self.pools and len(missing) > 1:
            done = self._kept(self.evaluate_many(missing))
        else:
            done = (self.evaluator(k) for k in missing)  # caches and counts each
        for evaluation in done:  # each stored (committed) as soon as it is known
            if self.store is not None:
                self.store.add([evaluation])
        return [self.evaluator(k) for k in keys]

    def _kept(self, evaluations: Iterable[Evaluation]) -> Iterator[Evaluation]:
        for evaluation in evaluations:
            self.evaluator.keep(evaluation)
            yield evaluation

    def evaluate_many(self, genomes: list[Genome]) -> Iterator[Evaluation]:
        """The workers' evaluations of distinct canonical genomes, in their order, each as soon as it and those
        before it are known; each genome goes to the first worker free."""
        finished: queue.Queue = queue.Queue()
        waiting = list(enumerate(genomes))[::-1]
        busy: set[int] = set()
        results: dict[int, Evaluation] = {}
        for index in range(len(genomes)):
            while index not in results:
                for worker in sorted(set(range(len(self.pools))) - busy)[: len(waiting)]:
                    position, genome = waiting.pop()
                    busy.add(worker)
                    done = functools.partial(_put, finished, worker, position)
                    self.pools[worker].apply_async(_evaluate_in_worker, (genome,), callback=done, error_callback=done)
                worker, position, outcome = finished.get()
                busy.discard(worker)
                if isinstance(outcome, BaseException):
                    raise outcome
                results[position] = outcome
            yield results.pop(index)


def _put(finished: queue.Queue, worker: int, position: int, outcome) -> None:
    finished.put((worker, position, outcome))
