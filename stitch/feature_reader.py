"""Random access to the parents' features at stitch points, computed on demand: nothing goes to disk.

Each parent is lowered once to a probe model whose outputs are the requested points (features.py); reading
rows runs those rows of the samples through every probe. ONNX Runtime's CPU kernels compute each sample
independently of the batch it is in (see features.py), so the features read equal the streamed (or once
cached) ones bit for bit, whatever rows are read together. Memory: the features of the rows read.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import session
from stitchc.ir.samples import Samples, as_samples

from .features import probe_model
from .points import Point


class FeatureReader:
    """reader(rows) -> id(point value) -> features of those rows, for every requested (graph, points) pair."""

    def __init__(self, requests: list[tuple[Graph, list[Point]]], x: Samples | np.ndarray):
        self.x = as_samples(x)
        self.probes = [(session(probe_model(graph, points)), points) for graph, points in requests if points]

    def __len__(self) -> int:
        return len(self.x)

    def __call__(self, rows: np.ndarray) -> dict[int, np.ndarray]:
        inputs = self.x.read(rows)[0]
        features = {}
        for probe, points in self.probes:
            outputs = probe.run(None, {probe.get_inputs()[0].name: inputs})
            features.update({id(p.value): array for p, array in zip(points, outputs)})
        return features
