"""The parents' features at stitch points, streamed batch by batch with ONNX Runtime.

Each parent is lowered once to a probe model whose outputs are the requested points, and run over the
samples in batches sized to a byte budget, so no step holds more than one batch of features. ONNX
Runtime's CPU kernels compute each sample independently of the batch it is in (checked bitwise on the
example parents and on torchvision's efficientnet_b0), so the features do not depend on the budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import session

from .points import Point

DEFAULT_BUDGET = 32 * 2**20  # bytes of features per batch (resnet50 × efficientnet_b0 at 32²: 14 samples)
MAX_BATCH = 256  # larger ORT batches run slower on CPU (activations fall out of cache)


def sample_bytes(points: list[Point]) -> int:
    """Bytes of the points' float32 features for one sample."""
    return sum(4 * int(np.prod(p.value.type.shape[1:])) for p in points)


def batch_size(points: list[Point], budget: int = DEFAULT_BUDGET, cap: int | None = MAX_BATCH) -> int:
    """Samples per batch so that the features of `points` fit in `budget` bytes (at most `cap`)."""
    size = max(1, budget // max(sample_bytes(points), 1))
    return size if cap is None else min(size, cap)


def probe_model(graph: Graph, points: list[Point]):
    """The parent lowered to ONNX with the points' values as its outputs."""
    probe = graph.copy()
    by_name = {v.name: v for v in probe.values()}
    probe.outputs = [by_name[p.value.name] for p in points]
    return probe.to_onnx()


def stream_features(
    requests: list[tuple[Graph, list[Point]]], x: np.ndarray, budget: int = DEFAULT_BUDGET
) -> Iterator[tuple[slice, dict[int, np.ndarray]]]:
    """For every batch of `x`: its slice and id(point value) -> features of that batch, for every requested
    (graph, points) pair. Points must be distinct values; one pass of each graph over the samples."""
    requests = [(graph, points) for graph, points in requests if points]
    sessions = [session(probe_model(graph, points)) for graph, points in requests]
    step = batch_size([p for _, points in requests for p in points], budget)
    for start in range(0, len(x), step):
        part = slice(start, start + step)
        features = {}
        for sess, (_, points) in zip(sessions, requests):
            outputs = sess.run(None, {sess.get_inputs()[0].name: x[part]})
            features.update({id(p.value): array for p, array in zip(points, outputs)})
        yield part, features
