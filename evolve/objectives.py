"""Objectives of a candidate: accuracy on a labelled split (ONNX Runtime), MACs and parameters (cost model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import predict
from stitchc.ir.samples import Samples, as_samples
from stitchc.stitch.decode import Genome
from .genome_space import GenomeSpace


@dataclass(frozen=True)
class Evaluation:
    genome: Genome
    accuracy: float
    macs: int
    params: int


def accuracy(model, data: Samples | np.ndarray, labels: np.ndarray | None = None) -> float:
    """Fraction of samples whose arg-max output equals the label; `model` is a Graph or ModelProto, `data`
    Samples (read batch by batch) or an input array with its `labels`."""
    scores, y = predict(model, as_samples(data, labels))
    return float(np.mean(scores.argmax(axis=1) == y))


class Evaluator:
    """Evaluates genomes on one split, caching by canonical genome (inactive genes do not matter)."""

    def __init__(self, space: GenomeSpace, data: Samples):
        self.space, self.data = space, data
        self.cache: dict[Genome, Evaluation] = {}

    def key(self, genome: Genome) -> Genome:
        return self.space.canonical(genome)

    def __call__(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        if key not in self.cache:
            graph = self.candidate(key)
            self.cache[key] = Evaluation(key, accuracy(graph, self.data), graph.macs(), graph.params())
        return self.cache[key]

    def candidate(self, genome: Genome) -> Graph:
        return self.space.decode(genome)[0]
