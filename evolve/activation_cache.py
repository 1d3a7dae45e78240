"""Activations kept across batches: the values of computations over a slice of samples, fed to later population
graphs of the same process instead of recomputing them (and everything before them).

A value is named by its signature id (population_graph.Signatures), so it is the same computation on the same
samples whatever candidate asks for it, and feeding it in gives the scores recomputing it would (tests check
bit-identity over several batches).

What may be kept: branch points, the values where candidates part ways, so that a later candidate resumes from
the deepest one it shares with any earlier candidate. A value is a branch point when its name is one of the
`points` the signatures were given (the supernet's values read by several nodes: stitch points, switch inputs)
or when two different computations have read it; interior values of a chain spare no more than the chain's end.
Candidates' outputs are kept too: a few bytes per sample that spare a whole network when a later candidate, an
ensemble of earlier ones say, reads them (MNIST: 7% fewer MACs). A value is worth keeping only when its
ancestors cost at least WORTH MACs per byte it holds, and only when feeding it in leaves ONNX Runtime's kernel
choices downstream unchanged (`_layout_safe`), so a candidate fed a kept value scores bit for bit as it does
alone.

Which: GreedyDual-Size-Frequency (Cherkasova, 1998). A value's priority is
    H(v) = L + hits(v) · cost(v) / bytes(v)
with cost the MACs per sample of its ancestors (what recomputing it costs), hits the number of population graphs
whose candidates computed through it (fed in or not), and L the cache's clock, raised to the priority of every
value dropped or refused. The highest priorities are kept within the budget: small deep values that spare whole
networks rank first, and values no later candidate passes through age out as L rises past them.

Memory: at most `budget` bytes per process, on top of ONNX Runtime's own activations, all in one arena
(stitchc.evolve.activation_arena) whose pages are faulted in once: on this machine fresh memory costs 0.6-2 s per
GiB in page faults (a 2 GiB cache that allocated afresh for each batch ran 2x slower than none). ONNX Runtime
writes a fetched value straight into its array (shared_evaluation binds it as an output), and the range of a
dropped value returns to the arena for the next values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activation_arena import Arena
from .conv_sum_fusion import CONTRIB
from .population_graph import Computation, PopulationGraph

BUDGET_BYTES = 2 << 30  # MNIST search: 5.2x fewer MACs than without sharing (1.5 GiB: 4.2x, 2.5 GiB: 5.6x)
WORTH = 32  # MACs per byte: a byte faults in once (0.6-2 ns here), a MAC costs 25 ps; 64 and 128 ran slower
LAYOUT_PASSING = frozenset(
    {
        "Relu",
        "Clip",
        "LeakyRelu",
        "Add",
        "Sub",
        "Mul",
        "Sum",
        "Max",
        "Min",
        "MaxPool",
        "GlobalMaxPool",
        "Concat",
        "Identity",
    }
)  # exact, but their output keeps the layout
LAYOUT_ROUNDING = frozenset(
    {
        "GlobalAveragePool",
        "AveragePool",
        "BatchNormalization",
        "Resize",
        "Upsample",
        "ConvTranspose",
        "LpPool",
        "GlobalLpPool",
    }
)  # rounding depends on the layout they get
Slot = tuple  # (split, start, stop): the samples the arrays hold


@dataclass
class Entry:
    """A branch point's standing: its cost (MACs per sample to recompute), bytes per sample, hits, priority."""

    cost: int
    size: int
    hits: int = 1
    priority: float = 0.0


class ActivationCache:
    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self.slots: dict[Slot, dict[int, np.ndarray]] = {}
        self.entries: dict[int, Entry] = {}
        self.clock = 0.0
        self.arena = Arena(budget)

    def plan(self, slot: Slot, population: PopulationGraph, rows: int) -> tuple[dict[int, np.ndarray], list[int]]:
        """(arrays to feed, values to fetch) for running `population` on the `rows` samples of `slot`: the held
        values that stay, the branch points that come in. Counts a hit for every held value the population's
        candidates compute through; the arrays of values that leave return to the arena. Other slots' arrays
        count against the budget first."""
        held = self.slots.get(slot, {})
        used = set(population.producer)  # what its candidates compute through, fed in or not
        for value in held.keys() & used:
            self.entries[value].hits += 1
        points = _branch_points(population)
        for value, entry in points.items():
            self.entries.setdefault(value, entry)
        offered = set(held) | set(points)
        for value in offered - (held.keys() - used):  # a held value not used keeps its priority: it ages
            entry = self.entries[value]
            entry.priority = self.clock + entry.hits * entry.cost / entry.size
        room = self.budget - sum(
            self.arena.extent(a)[1] for s, arrays in self.slots.items() if s != slot for a in arrays.values()
        )
        kept, fetch = {}, []
        for value in sorted(offered, key=lambda v: (-self.entries[v].priority, v)):
            size = self.arena.extent(held[value])[1] if value in held else self.entries[value].size * rows
            if size > room:
                self.clock = max(self.clock, self.entries[value].priority)
            elif value in held:
                room -= size
                kept[value] = held[value]
            else:
                room -= size
                fetch.append(value)
        for value in held.keys() - kept.keys():
            self.arena.release(held[value])
        self.slots[slot] = kept
        return _feedable(population, kept), fetch

    def buffers(self, wanted: list[tuple[tuple[int, ...], np.dtype]]) -> list[np.ndarray | None]:
        """Arrays for fetched values of these (shape, dtype), which `plan` fitted in the budget, carved from the
        arena largest first; None for a value no free range holds (the arena is fragmented): it is not kept."""
        sizes = [np.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in wanted]
        arrays: list[np.ndarray | None] = [None] * len(wanted)
        for index in sorted(range(len(wanted)), key=lambda i: -sizes[i]):
            arrays[index] = self.arena.carve(*wanted[index])
        return arrays

    def store(self, slot: Slot, arrays: dict[int, np.ndarray]) -> None:
        """Keeps the fetched `arrays` (written by the run) beside the slot's kept ones."""
        self.slots.setdefault(slot, {}).update(arrays)


def _feedable(population: PopulationGraph, kept: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The kept values `population` may be fed: those `_layout_safe` among the computations it still needs
    (dropping one can make more computations needed, hence the loop)."""
    fed = dict(kept)
    while True:
        needed = population.needed(set(fed))
        readers = _readers(needed)
        unsafe = {v for v in fed if v in readers and not _layout_safe(v, readers, {})}
        if not unsafe:
            return fed
        fed = {v: a for v, a in fed.items() if v not in unsafe}


def _readers(computations: list[Computation]) -> dict[int, list[Computation]]:
    readers: dict[int, list[Computation]] = {}
    for computation in computations:
        for value in set(computation.inputs):
            readers.setdefault(value, []).append(computation)
    return readers


def _layout_safe(value: int, readers: dict[int, list[Computation]], seen: dict[int, bool]) -> bool:
    """Whether feeding `value` (in NCHW) leaves every kernel ONNX Runtime picks downstream as it is when the value
    is computed (in its NCHWc layout, if the producer has one). A group-1 convolution reorders its data input and
    runs the same kernel either way; element-wise ops, max pooling and concatenation are exact but pass on the
    layout they receive; average pooling, depthwise convolutions, a FusedConv's summand, normalisation and
    resizing pick their kernel by that layout and round differently (on torchvision resnet18 x mobilenet_v2, 5 of
    40 candidates fed such values differed from their own sessions). Other ops read NCHW in both cases."""
    if value not in seen:  # memoised: branches of a population meet again downstream
        seen[value] = all(_reader_safe(c, value, readers, seen) for c in readers.get(value, ()))
    return seen[value]


def _reader_safe(computation: Computation, value: int, readers, seen) -> bool:
    node = computation.node
    if (node.domain, node.op) in {("", "Conv"), (CONTRIB, "FusedConv")}:
        return node.attr("group", 1) == 1 and computation.inputs[0] == value not in computation.inputs[1:]
    if node.domain or node.op in LAYOUT_ROUNDING:
        return False
    if node.op in LAYOUT_PASSING:
        return all(_layout_safe(v, readers, seen) for v in computation.outputs)
    return True


def _branch_points(population: PopulationGraph) -> dict[int, Entry]:
    """Entry by value of the population's branch points and candidate outputs that can be kept: the single output
    of a node, held as numeric rows, whose ancestors cost at least WORTH MACs per byte."""
    signatures = population.signatures
    batch = _leading(population.input_type)
    ancestors: dict[int, frozenset[int]] = {}  # value -> indices of the computations it depends on
    readers, safe = _readers(population.computations), {}
    points = {}
    for index, computation in enumerate(population.computations):
        above = frozenset({index}).union(*(ancestors.get(i, frozenset()) for i in computation.inputs))
        for value in computation.outputs:
            ancestors[value] = above
        value = computation.outputs[0]
        output = value in population.outputs  # a candidate's scores: small, and a whole network to recompute
        if len(computation.outputs) != 1 or not (output or signatures.is_branch_point(value, computation.node)):
            continue
        if not _layout_safe(value, readers, safe):
            continue
        if batch is None or not _numeric_rows(signatures.types[value], batch):
            continue
        macs = sum(population.computations[i].macs for i in above)
        if computation.bytes > 0 and macs >= WORTH * computation.bytes:
            points[value] = Entry(macs, computation.bytes)
    return points


def _numeric_rows(type, batch: str) -> bool:
    """Whether a value can be held as an array of rows: a numeric tensor, its leading dim the batch, every other
    dim known (what ONNX Runtime can write into a bound buffer)."""
    shape, dtype = getattr(type, "shape", None), getattr(type, "dtype", None)
    if not shape or shape[0] != batch or not all(isinstance(d, int) for d in shape[1:]) or dtype is None:
        return False
    return np.dtype(dtype).kind in "biuf"


def _leading(type) -> str | None:
    """The leading dim of a tensor type when it is a symbol (the batch), else None."""
    shape = getattr(type, "shape", None)
    return shape[0] if shape and isinstance(shape[0], str) else None
