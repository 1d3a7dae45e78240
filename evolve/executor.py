"""Evaluate many genomes at once: in this process, or in a pool of worker processes.

Workers start with `spawn` (never `fork`: ONNX Runtime's threads do not survive a fork). Each receives,
once at start-up, the evaluator without its genome space (data and objectives only) and a SpaceRecipe (the
supernet as ONNX bytes and the genome space's flat description), and rebuilds the space from it: never the
deep object graph of the IR, whose pickling overflows the stack on real networks. Results do not depend on
the number of workers or the order of completion, so runs stay deterministic.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import signal
from collections.abc import Iterable

from stitchc.stitch.decode import Genome

from .objectives import Evaluation, Evaluator
from .space_recipe import SpaceRecipe

_worker_evaluator: Evaluator | None = None
PARALLEL_WORK = 2e9  # MACs per evaluation above which worker processes repay their start-up (~2 s)


def auto_workers(macs_per_sample: int, samples: int) -> int:
    """One process for cheap evaluations; every core once an evaluation costs more than PARALLEL_WORK.
    (MNIST parents, 20 M MACs × 1,000 samples: 2 workers took 41 s against 64 s for one.)"""
    if macs_per_sample * samples < PARALLEL_WORK:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def without_space(evaluator: Evaluator) -> Evaluator:
    """What a worker receives besides the recipe: the evaluator's data and objectives, no space, an empty cache."""
    shell = copy.copy(evaluator)
    shell.space, shell.cache = None, {}
    return shell


def _start_worker(recipe: SpaceRecipe, evaluator: Evaluator) -> None:
    global _worker_evaluator
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent stops the pool
    evaluator.space = recipe.build()
    _worker_evaluator = evaluator


def _evaluate_in_worker(genome: Genome) -> Evaluation:
    return _worker_evaluator(genome)


class Executor:
    """Maps genomes to evaluations, sharing the evaluator's cache; `workers` > 1 uses processes.
    New evaluations go to `store` (a RunStore) when one is given, each committed as it completes, by this
    process only."""

    def __init__(self, evaluator: Evaluator, workers: int = 1, store=None):
        self.evaluator = evaluator
        self.workers = workers
        self.store = store
        self.pool = None

    def __enter__(self) -> Executor:
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")
            recipe = SpaceRecipe.of(self.evaluator.space)
            initargs = (recipe, without_space(self.evaluator))
            self.pool = context.Pool(self.workers, initializer=_start_worker, initargs=initargs)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def map(self, genomes: list[Genome]) -> list[Evaluation]:
        keys = [self.evaluator.key(g) for g in genomes]
        missing = list(dict.fromkeys(k for k in keys if k not in self.evaluator.cache))
        if self.pool is not None and len(missing) > 1:
            done = self.evaluate_many(missing)
        else:
            done = (self.evaluator(k) for k in missing)
        for key, evaluation in zip(missing, done):  # each stored (committed) as soon as it is known
            self.evaluator.cache[key] = evaluation
            if self.store is not None:
                self.store.add([evaluation])
        return [self.evaluator(k) for k in keys]

    def evaluate_many(self, genomes: list[Genome]) -> Iterable[Evaluation]:
        """The pool's evaluations of distinct canonical genomes, in their order, each as soon as it is known."""
        return self.pool.imap(_evaluate_in_worker, genomes, chunksize=1)
