"""Features of a parent's stitch points, computed once with ONNX Runtime in batches and kept on disk.

Each point's features live in a .npy file (memory-mapped) under the cache folder, keyed by a hash of the
parent's lowered model, the point names and the input samples, so a rerun with the same parents and data
reads them back instead of recomputing. Batches are sized to a memory budget, so no step holds more than
one batch of features in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.runtime import ort_errors, session
from stitchc.ir.samples import Samples, as_samples

from .points import Point

DEFAULT_BUDGET = 256 * 2**20  # bytes of features per batch


MAX_BATCH = 256  # larger ORT batches run slower on CPU (activations fall out of cache)


@contextlib.contextmanager
def feature_folder(cache: str | None):
    """The cache folder, or a temporary one that is removed afterwards when there is no cache."""
    if cache is not None:
        yield cache
        return
    with tempfile.TemporaryDirectory(prefix="stitchc-features-") as folder:
        yield folder


def batch_size(points: list[Point], budget: int = DEFAULT_BUDGET, cap: int | None = None) -> int:
    """Samples per batch so that the features of `points` fit in `budget` bytes (at most `cap`)."""
    per_sample = sum(4 * int(np.prod(p.value.type.shape[1:])) for p in points)
    size = max(1, budget // max(per_sample, 1))
    return size if cap is None else min(size, cap)


def _probe(graph: Graph, points: list[Point]) -> Graph:
    probe = graph.copy()
    by_name = {v.name: v for v in probe.values()}
    probe.outputs = [by_name[p.value.name] for p in points]
    return probe


def cached_features(
    graph: Graph, points: list[Point], x: Samples | np.ndarray, folder: str, budget: int = DEFAULT_BUDGET
) -> dict[int, np.ndarray]:
    """id(point value) -> memory-mapped features [len(x), ...] of that point; `x` is read batch by batch."""
    x = as_samples(x)
    model = _probe(graph, points).to_onnx()
    digest = hashlib.sha1(model.SerializeToString(deterministic=True))
    digest.update(x.fingerprint().encode())
    key = digest.hexdigest()[:16]
    paths = [os.path.join(folder, f"{graph.name}-{key}-{i}.npy") for i in range(len(points))]
    if not all(os.path.exists(p) for p in paths):
        with ort_errors(f"the features of parent '{graph.name}'"):
            _compute(model, points, x, paths, batch_size(points, budget, MAX_BATCH))
    return {id(p.value): np.load(path, mmap_mode="r") for p, path in zip(points, paths)}


def _compute(model, points: list[Point], x: Samples, paths: list[str], batch: int) -> None:
    os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
    temporary = [p + ".partial.npy" for p in paths]
    arrays = [
        np.lib.format.open_memmap(t, mode="w+", dtype=np.float32, shape=(len(x), *p.value.type.shape[1:]))
        for t, p in zip(temporary, points)
    ]
    sess = session(model)
    name = sess.get_inputs()[0].name
    for start, (inputs, _) in zip(range(0, len(x), batch), x.batches(batch)):
        for array, features in zip(arrays, sess.run(None, {name: inputs})):
            array[start : start + batch] = features
    for array, partial, final in zip(arrays, temporary, paths):
        array.flush()
        os.replace(partial, final)
