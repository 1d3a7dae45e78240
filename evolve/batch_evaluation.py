"""Evaluate a batch of genomes together: score tasks run by any executor, then each evaluation from its scores.

The executor supplies `run`, which maps a list of ScoreTasks to their results in order (the builtin map over
`evaluator.scores` in this process, a process pool's map over workers that hold the evaluator, or a Ray pool):
this is the whole interface between sharing and the executors. Values are computed here, in the calling
process, from every task's scores concatenated in sample order, so they are those of each candidate alone
whatever the number of workers. With racing (stitchc.evolve.racing) the batch is scored in two rounds: the first
slice of every split for all candidates, then the rest of the samples for the candidates not stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import check_finite
from stitchc.stitch.decode import Genome

from .objectives import Evaluation, Evaluator, SplitKey, measure, split_keys, weights
from .shared_evaluation import BATCH, ScoreTask, shards

Runner = Callable[[list[ScoreTask]], Iterable[tuple[list[np.ndarray], int]]]
Pieces = dict[Genome, dict[SplitKey, list[np.ndarray]]]  # per genome and split: scores of consecutive slices


def evaluate_batch(evaluator: Evaluator, keys: list[Genome], run: Runner, parts: int = 1) -> None:
    """Scores the canonical genomes `keys` together (tasks cut in up to `parts` slices of samples per split) and
    caches their evaluations in the evaluator; counts the work in its stats."""
    lengths = {s: len(evaluator.splits[s]) for s in split_keys(evaluator.objectives)}
    graphs = {k: evaluator.candidate(k) for k in keys}
    evaluator.batch_graphs = graphs  # the tasks run in this process decode them no more
    try:
        pieces = _scored(evaluator, keys, lengths, run, parts, graphs)
    finally:
        evaluator.batch_graphs = {}
    for key in keys:
        graph = graphs[key]
        for parts in pieces[key].values():  # an error naming the candidate, never a (wrong) point of the front
            check_finite(np.concatenate(parts), f"candidate {list(key)}: model '{graph.name}'")
        evaluator.cache[key] = Evaluation(key, _values(evaluator, graph, pieces[key]), graph.macs(), graph.params())
    evaluator.stats.evaluations += len(keys)


def _scored(evaluator: Evaluator, keys, lengths: dict, run: Runner, parts: int, graphs) -> Pieces:
    """Every candidate's scores on every split: in one round, or with racing in two (the first slice of every
    split for all, then the rest for the candidates not stopped)."""
    racing = evaluator.racing
    first = {s: racing.first_rows(n, BATCH) if racing else n for s, n in lengths.items()}
    pieces: Pieces = {k: {s: [] for s in lengths} for k in keys}
    _score(evaluator, keys, {s: (0, first[s]) for s in lengths}, run, parts, pieces, graphs)
    rest = keys
    if racing is not None and first != lengths:
        stopped = [k for k in keys if _hopeless(evaluator, graphs[k], pieces[k], first, lengths)]
        racing.stopped += stopped
        evaluator.stats.stopped += len(stopped)
        if racing.apply:
            rest = [k for k in keys if k not in set(stopped)]
    if rest:
        _score(evaluator, rest, {s: (first[s], lengths[s]) for s in lengths}, run, parts, pieces, graphs)
    return pieces


def _score(evaluator: Evaluator, keys, rows, run: Runner, parts: int, pieces: Pieces, graphs) -> None:
    """Runs the tasks of `keys` over `rows` ((start, stop) per split) and appends their scores to `pieces`."""
    tasks = [
        ScoreTask(tuple(keys), split, start, stop)
        for split, (low, high) in rows.items()
        if high > low
        for start, stop in shards(high - low, parts, offset=low)
    ]
    needed = sum(graphs[k].macs() for k in keys)
    for task, (outputs, done) in zip(tasks, run(tasks)):
        for key, scores in zip(task.genomes, outputs):
            pieces[key][task.split].append(scores)
        evaluator.count(0, needed * (task.stop - task.start), done * (task.stop - task.start))


def _values(evaluator: Evaluator, graph: Graph, pieces: dict[SplitKey, list[np.ndarray]]) -> tuple[float, ...]:
    """The objectives' values from the scores gathered so far (the labels of as many samples)."""
    outputs = {}
    for split, parts in pieces.items():
        scores = np.concatenate(parts)
        outputs[split] = (scores, evaluator.labels(split)[: len(scores)])
    return measure(graph, evaluator.objectives, evaluator.splits, evaluator.metrics, outputs=outputs)


def _hopeless(evaluator: Evaluator, graph: Graph, pieces, seen: dict, lengths: dict) -> bool:
    """Whether racing stops this candidate: its optimistic values are dominated by a fully evaluated point."""
    racing, signs = evaluator.racing, weights(evaluator.objectives)
    values = _values(evaluator, graph, pieces)
    optimistic = tuple(
        v if o.data is None else racing.optimistic(v, w, seen[(o.data, o.split)], lengths[(o.data, o.split)])
        for v, w, o in zip(values, signs, evaluator.objectives)
    )
    partial = set(racing.stopped) if racing.apply else set()
    front = [e.values for e in evaluator.cache.values() if e.genome not in partial]
    return racing.hopeless(optimistic, front, signs)
