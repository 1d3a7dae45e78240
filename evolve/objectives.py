"""Objectives of a candidate: accuracy on a labelled split (ONNX Runtime), MACs and parameters (cost model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import run, run_feeds
from .decode import Genome
from .genome_space import GenomeSpace
from .prefix_cache import PrefixCache


@dataclass(frozen=True)
class Evaluation:
    genome: Genome
    accuracy: float
    macs: int
    params: int


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose arg-max output equals the label; `model` is a Graph or ModelProto."""
    scores = run(model, x)[0]
    return float(np.mean(scores.argmax(axis=1) == y))


class Evaluator:
    """Evaluates genomes on one split, caching by canonical genome (inactive genes do not matter)."""

    def __init__(self, space: GenomeSpace, x: np.ndarray, y: np.ndarray, prefix: PrefixCache | None = None):
        self.space, self.x, self.y, self.prefix = space, x, y, prefix
        self.cache: dict[Genome, Evaluation] = {}

    def key(self, genome: Genome) -> Genome:
        return self.space.canonical(genome)

    def __call__(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        if key not in self.cache:
            graph = self.candidate(key)
            self.cache[key] = Evaluation(key, self._accuracy(graph), graph.macs(), graph.params())
        return self.cache[key]

    def _accuracy(self, graph: Graph) -> float:
        if self.prefix is None:
            return accuracy(graph, self.x, self.y)
        cut, feeds = self.prefix.cut(graph, self.x)
        output = cut.outputs[0]
        scores = feeds[output.name] if output in cut.inputs else run_feeds(cut, feeds)[0]
        return float(np.mean(np.asarray(scores).argmax(axis=1) == self.y))

    def candidate(self, genome: Genome) -> Graph:
        return self.space.decode(genome)[0]
