"""Activations kept between batches: the values of shared computations over a slice of samples, reused by the
next population graphs of the same process instead of recomputing them (and everything before them).

A value is named by its signature id (population_graph.Signatures), so it is the same computation on the same
samples whatever candidate asks for it, and feeding it in gives the scores recomputing it would (tests check
bit-identity over several batches). After each population graph, the values worth keeping are chosen afresh:
ranked by the MACs they spare per byte (the MACs of all their ancestors, times the candidates of the batch that
read them), taken greedily within BUDGET_BYTES over every slice the process holds; kept values no longer chosen
are dropped, values chosen but not held are fetched from the run (as extra outputs). Memory: at most
BUDGET_BYTES per process for the cache, on top of ONNX Runtime's own activations.
"""

from __future__ import annotations

import numpy as np

from .population_graph import PopulationGraph

BUDGET_BYTES = 128 << 20  # fetching costs copies: on MNIST (12 generations) 128 MiB beat 0 and 512 MiB
Slot = tuple  # (split, start, stop): the samples the arrays hold


class ActivationCache:
    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self.slots: dict[Slot, dict[int, np.ndarray]] = {}

    def given(self, slot: Slot, population: PopulationGraph) -> set[int]:
        """The values of `population` this cache holds for `slot`."""
        held = self.slots.get(slot, {})
        return {v for v in population.producer if v in held}

    def plan(self, slot: Slot, population: PopulationGraph, rows: int) -> tuple[set[int], list[int]]:
        """(values to keep, values to fetch) for `slot` after running `population` on its `rows` samples; the
        other slots' arrays count against the budget first."""
        held = self.slots.get(slot, {})
        room = self.budget - sum(a.nbytes for s, arrays in self.slots.items() if s != slot for a in arrays.values())
        keep, fetch = set(), []
        for value, size in _ranked(population):
            if size * rows > room:
                continue
            room -= size * rows
            if value in held:
                keep.add(value)
            else:
                fetch.append(value)
        return keep, fetch

    def store(self, slot: Slot, keep: set[int], arrays: dict[int, np.ndarray]) -> None:
        held = {v: a for v, a in self.slots.get(slot, {}).items() if v in keep}
        held.update(arrays)
        self.slots[slot] = held


def _ranked(population: PopulationGraph) -> list[tuple[int, int]]:
    """(value, bytes per sample) of the population's cacheable values, most MACs spared per byte first: node
    outputs of known size whose leading dim is the batch (so slices of samples are slices of the array; not a
    Shape's output, say), and that are not candidates' outputs."""
    ancestors: dict[int, frozenset[int]] = {}
    ranked = []
    outputs = set(population.outputs)
    batch = _leading(population.input_type)
    types = population.signatures.types
    for index, computation in enumerate(population.computations):
        above = frozenset({index}).union(*(ancestors.get(i, frozenset()) for i in computation.inputs))
        for value in computation.outputs:
            ancestors[value] = above
        value = computation.outputs[0]
        if len(computation.outputs) != 1 or computation.bytes <= 0 or value in outputs:
            continue
        if batch is None or _leading(types[value]) != batch:
            continue
        spared = sum(population.computations[i].macs for i in above) * population.uses.get(value, 1)
        if spared > 0:
            ranked.append((spared / computation.bytes, value, computation.bytes))
    ranked.sort(key=lambda r: -r[0])
    return [(value, size) for _, value, size in ranked]


def _leading(type) -> str | None:
    """The leading dim of a tensor type when it is a symbol (the batch), else None."""
    shape = getattr(type, "shape", None)
    return shape[0] if shape and isinstance(shape[0], str) else None
