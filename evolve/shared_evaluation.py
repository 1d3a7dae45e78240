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
one candidate's own activations). Between batches, a process keeps the activations of branch points within the
activation cache's own budget (stitchc.evolve.activation_cache): a later population graph takes them as inputs,
and the ones it fetches are outputs that ONNX Runtime writes straight into the cache's arrays (IOBinding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.errors import ExecutionError
from stitchc.ir.runtime import ort_errors, predict, session
from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome

from .activation_cache import ActivationCache
from .population_graph import INPUT, PopulationGraph, Signatures, mergeable

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
    graphs: list[Graph],
    samples: Samples,
    budget: int = BUDGET_BYTES,
    batch: int = BATCH,
    signatures: Signatures | None = None,
    cache: ActivationCache | None = None,
    slot: tuple = (),
) -> tuple[list[np.ndarray], int]:
    """Every graph's first output on every sample, and the MACs per sample the shared sessions computed. With a
    `cache` (and the `signatures` table it was filled with), activations of earlier calls on the same `slot` of
    samples are fed in instead of recomputed, and the cache is refilled. Raises ExecutionError when ONNX Runtime
    cannot build or run a population model."""
    signatures = signatures or Signatures()
    signatures.forget_arrays()
    scores: list[np.ndarray | None] = [None] * len(graphs)
    done = 0
    for index, graph in enumerate(graphs):
        if not mergeable(graph):
            scores[index] = predict(graph, samples, batch)[0]
            done += graph.macs()
    merged = [i for i, graph in enumerate(graphs) if mergeable(graph)]
    for members, population in _populations([graphs[i] for i in merged], budget // batch, signatures):
        outputs = _run(population, samples, batch, cache, slot)
        for member, name in zip(members, population.output_names()):
            scores[merged[member]] = outputs[name]
        done += population.macs_done
    return scores, done


def _populations(graphs: list[Graph], per_sample: int, signatures: Signatures):
    """(candidate indices, population graph) in order, each population graph closed once its activations per
    sample pass `per_sample` bytes."""
    members: list[int] = []
    population = PopulationGraph(signatures)
    for index, graph in enumerate(graphs):
        if members and (not population.accepts(graph) or population.activation_bytes > per_sample):
            yield members, population
            members, population = [], PopulationGraph(signatures)
        population.add(graph)
        members.append(index)
    if members:
        yield members, population


def _run(population: PopulationGraph, samples: Samples, batch: int, cache: ActivationCache | None, slot: tuple):
    """The candidates' outputs by name over every sample; refills the cache. ONNX Runtime writes each batch of a
    fetched value straight into its rows of the cache's array (a bound output)."""
    if not len(samples):
        raise ExecutionError("no samples to run a population model on")
    rows = len(samples)
    fed, fetch = cache.plan(slot, population, rows) if cache is not None else ({}, [])
    types = population.signatures.types
    wanted = [((rows, *types[v].shape[1:]), types[v].dtype) for v in fetch]
    fetched = {v: a for v, a in zip(fetch, cache.buffers(wanted) if fetch else []) if a is not None}
    model = population.to_onnx(set(fed), list(fetched))
    read = {i.name for i in model.graph.input}
    fed = {population.name(v): a for v, a in fed.items() if population.name(v) in read}
    into = {population.name(v): a for v, a in fetched.items()}
    outputs: dict[str, np.ndarray] = {}
    with ort_errors("a population model"):
        sess = session(model)
        names = [o.name for o in sess.get_outputs() if o.name not in into]
        binding = sess.io_binding()
        for start, (x, _) in zip(range(0, rows, batch), samples.batches(batch)):
            binding.bind_cpu_input(INPUT, np.ascontiguousarray(x))
            for name, array in fed.items():
                binding.bind_cpu_input(name, array[start : start + len(x)])
            for name in names:
                binding.bind_output(name, "cpu")
            for name, array in into.items():
                view = array[start : start + len(x)]
                binding.bind_output(name, "cpu", 0, array.dtype, list(view.shape), view.ctypes.data)
            sess.run_with_iobinding(binding)
            for name, value in zip(names, binding.get_outputs()):
                chunk = value.numpy()
                if name not in outputs:  # written in place: one copy of each output, not two
                    outputs[name] = np.empty((rows, *chunk.shape[1:]), chunk.dtype)
                outputs[name][start : start + len(chunk)] = chunk
            binding.clear_binding_inputs()
            binding.clear_binding_outputs()
    if cache is not None:
        cache.store(slot, fetched)
    kept = set(into) & set(population.output_names())  # candidates' scores the cache holds: it may reuse them
    return outputs | {name: into[name].copy() for name in kept}
