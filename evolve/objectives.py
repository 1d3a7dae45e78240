"""Objectives of a candidate: every metric of the search, measured once per candidate.

Metrics on data run the candidate once per split with ONNX Runtime (every objective on that split shares the
run) and score its first output against the split's labels: the built-in metrics of
stitchc.evolve.metrics.registry or user metrics. Costs come from the cost model (MACs, parameters) or from
timing (latency). Metric functions take whole (scores, labels) arrays, so scores may be gathered batch by batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from stitchc.grammar.program import MetricSpec, ObjectiveSpec
from stitchc.ir import Graph
from stitchc.ir.errors import NonFiniteOutput
from stitchc.ir.runtime import predict
from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome

from .activation_cache import BUDGET_BYTES as CACHE_BYTES
from .activation_cache import ActivationCache
from .conv_sum_fusion import scored_form
from .genome_space import GenomeSpace
from .metrics.registry import COST_METRICS, SCORE_METRICS
from .metrics.user import user_metric
from .population_graph import Signatures, read_twice
from .racing import Racing
from .search_stats import SearchStats
from .shared_evaluation import ScoreTask, population_scores

SplitKey = tuple[str, str]  # (data name, split name)


@dataclass(frozen=True)
class Evaluation:
    genome: Genome
    values: tuple[float, ...]  # one per objective of the search, in the spec's order
    macs: int
    params: int


def weights(objectives: tuple[ObjectiveSpec, ...]) -> tuple[float, ...]:
    """DEAP fitness weights: +1 for an objective to maximize, -1 for one to minimize."""
    return tuple(1.0 if o.direction == "maximize" else -1.0 for o in objectives)


def split_keys(objectives: tuple[ObjectiveSpec, ...]) -> list[SplitKey]:
    """The data splits the objectives are measured on, each once, in order of first use."""
    return list(dict.fromkeys((o.data, o.split) for o in objectives if o.data is not None))


def scores(model: Graph | onnx.ModelProto, split: Samples) -> tuple[np.ndarray, np.ndarray]:
    """The model's first output over every sample of a split, read batch by batch, and the split's labels; a
    graph runs in its scored form (stitchc.evolve.conv_sum_fusion), as in a population model."""
    return predict(scored_form(model) if isinstance(model, Graph) else model, split)


def measure(
    graph: Graph,
    objectives: tuple[ObjectiveSpec, ...],
    splits: dict[SplitKey, Samples],
    metrics: dict[str, MetricSpec],
    model: onnx.ModelProto | None = None,
    outputs: dict[SplitKey, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[float, ...]:
    """The objectives' values for one candidate; `model` is the graph's ONNX lowering, what the data metrics run
    (when not given, the graph's cached session runs), unless `outputs` gives its (scores, labels) per split
    already. Raises MetricError when a user metric fails and NonFiniteOutput when the outputs hold NaN or Inf."""
    if outputs is None:
        model = model if model is not None else graph  # a graph runs through the session cache (weights not serialised)
        outputs = {key: scores(model, splits[key]) for key in split_keys(objectives)}
    values = []
    for objective in objectives:
        arguments = dict(objective.args)
        if objective.data is None:
            values.append(COST_METRICS[objective.metric](graph, **arguments))
            continue
        output, labels = outputs[(objective.data, objective.split)]
        if objective.metric in metrics:
            values.append(user_metric(metrics[objective.metric], output, labels))
        else:
            values.append(SCORE_METRICS[objective.metric](output, labels, **arguments))
    return tuple(values)


class Evaluator:
    """Evaluates genomes on a search's objectives, caching by canonical genome (inactive genes do not matter).

    `splits` holds the data of every split an objective is measured on; `metrics` the user metrics by name.
    With `shared`, executors score a batch of genomes together (stitchc.evolve.batch_evaluation): the same
    values, each distinct node computation done once per batch.
    `racing` (stitchc.evolve.racing, shared only) stops candidates early: it changes results. `cache_bytes`
    bounds the activations kept between batches (stitchc.evolve.activation_cache; 0: none)."""

    def __init__(
        self,
        space: GenomeSpace,
        objectives: tuple[ObjectiveSpec, ...],
        splits: dict[SplitKey, Samples],
        metrics: dict[str, MetricSpec] | None = None,
        shared: bool = True,
        racing: Racing | None = None,
        cache_bytes: int = CACHE_BYTES,
    ):
        self.space, self.objectives, self.splits = space, tuple(objectives), splits
        self.metrics = dict(metrics or {})
        self.cache: dict[Genome, Evaluation] = {}
        self.shared = shared
        self.racing = racing
        self.signatures = Signatures(read_twice(space.supernet.graph))  # what the activation cache relies on
        self.activations = ActivationCache(cache_bytes)
        self._labels: dict[SplitKey, np.ndarray] = {}
        self.stats = SearchStats()
        self.batch_graphs: dict[Genome, Graph] = {}  # the batch being scored, decoded once (batch_evaluation)

    def key(self, genome: Genome) -> Genome:
        return self.space.canonical(genome)

    def __call__(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        if key not in self.cache:
            graph = self.candidate(key)
            try:
                values = measure(graph, self.objectives, self.splits, self.metrics)
            except NonFiniteOutput as error:  # an error naming the candidate, never a (wrong) point of the front
                raise NonFiniteOutput(f"candidate {list(key)}: {error}") from None
            self.keep(Evaluation(key, values, graph.macs(), graph.params()))
        return self.cache[key]

    def keep(self, evaluation: Evaluation) -> None:
        """Caches an evaluation made alone (here or in a worker) and counts its work."""
        self.cache[evaluation.genome] = evaluation
        work = evaluation.macs * sum(len(self.splits[k]) for k in split_keys(self.objectives))
        self.count(1, work, work)

    def scores(self, task: ScoreTask) -> tuple[list[np.ndarray], int]:
        """Runs a task (in any process holding this evaluator): each genome's scores on the task's samples, and
        the MACs per sample computed."""
        graphs = [scored_form(self.candidate(g)) for g in task.genomes]
        samples = self.splits[task.split].subset(np.arange(task.start, task.stop))
        slot = (task.split, task.start, task.stop)
        return population_scores(graphs, samples, signatures=self.signatures, cache=self.activations, slot=slot)

    def labels(self, key: SplitKey) -> np.ndarray:
        """Every label of a split, read once."""
        if key not in self._labels:
            self._labels[key] = self.splits[key].labels()
        return self._labels[key]

    def count(self, evaluations: int, needed: int, done: int) -> None:
        self.stats.evaluations += evaluations
        self.stats.macs_needed += needed
        self.stats.macs_done += done

    def candidate(self, genome: Genome) -> Graph:
        graph = self.batch_graphs.get(genome)
        return graph if graph is not None else self.space.decode(genome)[0]
