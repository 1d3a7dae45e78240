"""Features of a parent's stitch points kept on disk, for the passes that read them many times (SGD
refinement, CKA similarity); closed-form fitting streams them instead (see fit.py).

Each point's features live in a .npy file (memory-mapped) under the cache folder, keyed by a hash of the
parent's lowered model, the point names and the input samples, so a rerun with the same parents and data
reads them back instead of recomputing. They are computed in batches sized to a memory budget, so no step
holds more than one batch of features in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.samples import Samples, as_samples

from .features import DEFAULT_BUDGET, probe_model, stream_features
from .points import Point


@contextlib.contextmanager
def feature_folder(cache: str | None):
    """The cache folder, or a temporary one that is removed afterwards when there is no cache."""
    if cache is not None:
        yield cache
        return
    with tempfile.TemporaryDirectory(prefix="stitchc-features-") as folder:
        yield folder


def cached_features(
    graph: Graph, points: list[Point], x: Samples | np.ndarray, folder: str, budget: int = DEFAULT_BUDGET
) -> dict[int, np.ndarray]:
    """id(point value) -> memory-mapped features [len(x), ...] of that point."""
    x = as_samples(x)
    digest = hashlib.sha1(probe_model(graph, points).SerializeToString(deterministic=True))
    digest.update(x.fingerprint().encode())  # a content hash of the samples, read once
    key = digest.hexdigest()[:16]
    paths = [os.path.join(folder, f"{graph.name}-{key}-{i}.npy") for i in range(len(points))]
    if not all(os.path.exists(p) for p in paths):
        _compute(graph, points, x, paths, budget)
    return {id(p.value): np.load(path, mmap_mode="r") for p, path in zip(points, paths)}


def stitch_points_of(stitches: list, parents: dict[str, Graph]) -> dict[str, list[Point]]:
    """Per parent name: the points of that parent the stitches read or replace, each value once."""
    return {
        name: unique_points(
            [s.source for s in stitches if s.plan.source_parent == name]
            + [s.target for s in stitches if s.plan.target_parent == name]
        )
        for name in parents
    }


def parent_features(
    stitches: list, parents: dict[str, Graph], x: Samples | np.ndarray, folder: str
) -> dict[int, np.ndarray]:
    """Cached features of every point the stitches read or replace, per parent, in `folder`."""
    features = {}
    for name, points in stitch_points_of(stitches, parents).items():
        if points:
            features.update(cached_features(parents[name], points, x, folder))
    return features


def unique_points(points: list[Point]) -> list[Point]:
    """The points in order, each value once."""
    return list({id(p.value): p for p in points}.values())


def _compute(graph: Graph, points: list[Point], x: Samples, paths: list[str], budget: int) -> None:
    os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
    temporary = [p + ".partial.npy" for p in paths]
    arrays = [
        np.lib.format.open_memmap(t, mode="w+", dtype=np.float32, shape=(len(x), *p.value.type.shape[1:]))
        for t, p in zip(temporary, points)
    ]
    for part, features in stream_features([(graph, points)], x, budget):
        for array, point in zip(arrays, points):
            array[part] = features[id(point.value)]
    for array, partial, final in zip(arrays, temporary, paths):
        array.flush()
        os.replace(partial, final)
