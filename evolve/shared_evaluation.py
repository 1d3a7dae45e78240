"""Shared evaluation: the candidates of a batch are scored together, each distinct node computation once.

The work of a batch is cut into score tasks: (candidates, split, a slice of its samples). A task decodes its
candidates, merges them into population graphs (stitchc.evolve.population_graph) and runs each with one ONNX
Runtime session over its slice, batch by batch; it returns every candidate's scores on the slice. Workers
shard by samples, not by candidates: each task holds the whole batch of candidates, so every worker keeps all
of the sharing, and slices start on multiples of the sample batch so every session sees the same sample batches
as one process would (the scores, hence the results, do not depend on the number of workers).

Memory: ONNX Runtime frees an activation after its last reader, but in the worst case every distinct activation
of a population graph is alive at once. A population graph is closed once that worst case, at the sample batch,
passes BUDGET_BYTES; the candidates left start the next one (so a graph's estimate stays under the budget plus
one candidate's own activations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.errors import ExecutionError
from stitchc.ir.runtime import ort_errors, predict, session
from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome

from .population_graph import INPUT, PopulationGraph, mergeable

BATCH = 128  # samples per ONNX Runtime call, as ir.runtime.predict
BUDGET_BYTES = 1 << 30  # worst-case activations of one population graph at BATCH samples


@dataclass(frozen=True)
class ScoreTask:
    genomes: tuple[Genome, ...]  # canonical genomes, in the batch's order
    split: tuple[str, str]
    start: int
    stop: int


def shards(length: int, parts: int, batch: int = BATCH, offset: int = 0) -> list[tuple[int, int]]:
    """Up to `parts` contiguous slices of [offset, offset + length) covering it, each starting `offset` plus a
    multiple of `batch` (so with `offset` a multiple of `batch`, every slice starts on a batch boundary)."""
    batches = max(1, -(-length // batch))
    per = -(-batches // max(1, parts))
    return [(offset + b * batch, offset + min(length, (b + per) * batch)) for b in range(0, batches, per)]


def population_scores(
    graphs: list[Graph], samples: Samples, budget: int = BUDGET_BYTES, batch: int = BATCH
) -> tuple[list[np.ndarray], int]:
    """Every graph's first output on every sample, and the MACs per sample the shared sessions computed.
    Raises ExecutionError when ONNX Runtime cannot build or run a population model."""
    scores: list[np.ndarray | None] = [None] * len(graphs)
    done = 0
    for index, graph in enumerate(graphs):
        if not mergeable(graph):
            scores[index] = predict(graph, samples, batch)[0]
            done += graph.macs()
    merged = [i for i, graph in enumerate(graphs) if mergeable(graph)]
    for members, population in _populations([graphs[i] for i in merged], budget // batch):
        members = [merged[m] for m in members]
        outputs = _run(population, samples, batch)
        for member, name in zip(members, population.output_names()):
            scores[member] = outputs[name]
        done += population.macs_done
    return scores, done


def _populations(graphs: list[Graph], per_sample: int):
    """(candidate indices, population graph) in order, each population graph closed once its activations per
    sample pass `per_sample` bytes."""
    members: list[int] = []
    population = PopulationGraph()
    for index, graph in enumerate(graphs):
        if members and (not population.accepts(graph) or population.activation_bytes > per_sample):
            yield members, population
            members, population = [], PopulationGraph()
        population.add(graph)
        members.append(index)
    if members:
        yield members, population


def _run(population: PopulationGraph, samples: Samples, batch: int) -> dict[str, np.ndarray]:
    model = population.to_onnx()
    names = list(dict.fromkeys(population.output_names()))
    with ort_errors("a population model"):
        sess = session(model)
        chunks = [sess.run(names, {INPUT: x}) for x, _ in samples.batches(batch)]
    if not chunks:
        raise ExecutionError("no samples to run a population model on")
    return {name: np.concatenate([c[k] for c in chunks]) for k, name in enumerate(names)}
