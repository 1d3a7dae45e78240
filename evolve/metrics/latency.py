"""Latency: the median wall time of one ONNX Runtime run of a batch, on the provider the run evaluates with.

Measured single-threaded like every evaluation (stitchc.ir.runtime.session), on zero inputs of the model's
input type with the batch dim set, after WARMUP untimed runs; the median of REPEATS timed runs. Wall times
are noisy (other processes, parallel workers, frequency scaling): compare candidates measured in one run, and
never use latency as a search's only objective.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import session

WARMUP, REPEATS = 3, 15


def latency(graph: Graph, batch: int = 1) -> float:
    """Median milliseconds per run of `batch` samples (symbolic dims of the input are set to `batch`)."""
    value = graph.inputs[0]
    shape = [d if isinstance(d, int) else batch for d in value.type.shape]
    shape[0] = batch
    sess = session(graph)
    feeds = {sess.get_inputs()[0].name: np.zeros(shape, dtype=value.type.dtype)}
    for _ in range(WARMUP):
        sess.run(None, feeds)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)
