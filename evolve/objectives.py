"""Objectives of a candidate: accuracy on a labelled split (ONNX Runtime), MACs and parameters (cost model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import run
from stitchc.stitch.decode import Genome
from .genome_space import GenomeSpace


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

    def __init__(self, space: GenomeSpace, x: np.ndarray, y: np.ndarray):
        self.space, self.x, self.y = space, x, y
        self.cache: dict[Genome, Evaluation] = {}

    def key(self, genome: Genome) -> Genome:
        return self.space.canonical(genome)

    def __call__(self, genome: Genome) -> Evaluation:
        key = self.key(genome)
        if key not in self.cache:
            graph = self.candidate(key)
            self.cache[key] = Evaluation(key, accuracy(graph, self.x, self.y), graph.macs(), graph.params())
        return self.cache[key]

    def candidate(self, genome: Genome) -> Graph:
        return self.space.decode(genome)[0]
