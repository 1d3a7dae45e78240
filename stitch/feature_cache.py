"""Features of a parent's stitch points kept on disk, for a pass that reads them point by point (CKA similarity,
in a temporary folder; bench/stitch_fit.py); closed-form fitting streams them (fit.py) and SGD refinement
computes each batch's on demand (feature_reader.py).

Each point's features live in a .npy file (memory-mapped for reading) under the cache folder, keyed by a hash
of the parent's lowered model, the point names and the input samples, so a rerun with the same parents and
data reads them back instead of recomputing. They are computed in batches sized to a memory budget, so no
step holds more than one batch of features in memory.

Guarantees:
- a cached file is used only when its content matches the BLAKE2b checksum stored beside it (`.npy.b2`) and
  its header the expected shape and dtype; a zeroed, bit-flipped, truncated or unchecked file is recomputed,
  with one warning line on stderr naming it and the cause;
- files are written through ordinary writes (no memory-mapped writes: a full disk is an OSError naming the
  file, never a SIGBUS) into `.partial` files renamed only when complete; a failed write removes them, and
  partial files a killed run left in the folder are removed before the next computation there.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import sys

import numpy as np

from stitchc.ir import Graph
from stitchc.ir.samples import Samples, as_samples

from .features import DEFAULT_BUDGET, probe_model, stream_features
from .points import Point

PARTIAL = ".partial"  # suffix of a file being written
CHECKSUM = ".b2"  # suffix of the checksum file beside each cached .npy
CHUNK = 8 * 2**20  # bytes read at a time when checking a file


def cached_features(
    graph: Graph, points: list[Point], x: Samples | np.ndarray, folder: str, budget: int = DEFAULT_BUDGET
) -> dict[int, np.ndarray]:
    """id(point value) -> memory-mapped features [len(x), ...] of that point (checked, else recomputed)."""
    x = as_samples(x)
    digest = hashlib.sha1(probe_model(graph, points).SerializeToString(deterministic=True))
    digest.update(x.fingerprint().encode())  # a content hash of the samples, read once
    key = digest.hexdigest()[:16]
    paths = [os.path.join(folder, f"{graph.name}-{key}-{i}.npy") for i in range(len(points))]
    shapes = [(len(x), *p.value.type.shape[1:]) for p in points]
    arrays = _load_all(paths, shapes)
    if arrays is None:
        _compute(graph, points, x, paths, shapes, budget)
        arrays = [np.load(path, mmap_mode="r") for path in paths]
    return {id(p.value): array for p, array in zip(points, arrays)}


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


def remove_partial_files(folder: str) -> list[str]:
    """Removes the partial feature files a killed run left in `folder` (this module's and the memory-mapped
    `.partial.npy` of earlier versions); returns their paths. The run folder's lock keeps a live run's out."""
    stale = [
        path
        for pattern in (f"*.npy{PARTIAL}", f"*.npy{CHECKSUM}{PARTIAL}", "*.partial.npy")
        for path in glob.glob(os.path.join(glob.escape(folder), pattern))
    ]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return stale


def _load_all(paths: list[str], shapes: list[tuple]) -> list[np.ndarray] | None:
    """The checked arrays, or None when any is missing or fails its check (said on stderr, then recomputed)."""
    if not all(os.path.exists(p) for p in paths):
        return None
    arrays = []
    for path, shape in zip(paths, shapes):
        array, problem = _checked(path, shape)
        if problem is not None:
            print(f"stitchc: warning: feature cache {path}: {problem}; recomputing", file=sys.stderr, flush=True)
            return None
        arrays.append(array)
    return arrays


def _checked(path: str, shape: tuple) -> tuple[np.ndarray | None, str | None]:
    """(the memory-mapped array, None) when the file matches its checksum, shape and dtype; else (None, why)."""
    try:
        with open(path + CHECKSUM) as file:
            expected = file.read().strip()
    except OSError:
        return None, "no checksum beside it"
    try:
        if _file_digest(path) != expected:
            return None, "content does not match its checksum (damaged)"
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError, IndexError) as error:  # truncated or garbled header or data
        return None, f"unreadable ({' '.join(str(error).split())[:120]})"
    if array.shape != shape or array.dtype != np.float32:
        return None, f"holds {array.dtype}{list(array.shape)} instead of float32{list(shape)}"
    return array, None


def _file_digest(path: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _compute(graph: Graph, points: list[Point], x: Samples, paths: list[str], shapes: list[tuple], budget: int) -> None:
    """Streams the features into `.partial` files, then renames each with its checksum beside it. An OSError
    (a full disk...) removes the partial files and names the file that could not be written."""
    folder = os.path.dirname(paths[0])
    os.makedirs(folder, exist_ok=True)
    remove_partial_files(folder)
    writers = []
    try:
        for path, shape in zip(paths, shapes):
            writers.append(_Writer(path + PARTIAL))
            writers[-1].header(shape)
        for _, features in stream_features([(graph, points)], x, budget):
            for writer, point in zip(writers, points):
                writer.write(features[id(point.value)])
        for writer, path in zip(writers, paths):
            writer.finish(path)
    finally:
        for writer in writers:
            writer.discard()


class _Writer:
    """One .npy file written sequentially through an ordinary file, hashed as it is written."""

    def __init__(self, partial: str):
        self.partial, self.checksum, self.digest = partial, None, hashlib.blake2b(digest_size=16)
        self.file = open(partial, "wb")  # noqa: SIM115 (closed by finish or discard)

    def header(self, shape: tuple) -> None:
        """Writes the .npy header of a float32 C-order array of `shape`."""
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False, "shape": shape}
        self._guarded(lambda: np.lib.format.write_array_header_1_0(self, header))

    def write(self, data) -> None:
        """Appends bytes or the next rows of the array (float32, C order)."""
        data = data if isinstance(data, bytes) else np.ascontiguousarray(data, dtype=np.float32).tobytes()
        self._guarded(lambda: self.file.write(data))
        self.digest.update(data)

    def finish(self, path: str) -> None:
        """Closes the file and renames it to `path`, its checksum written beside it (both complete or absent)."""
        self._guarded(self.file.close)
        self.checksum = path + CHECKSUM + PARTIAL
        self._guarded(lambda: _write_text(self.checksum, self.digest.hexdigest()), self.checksum)
        os.replace(self.partial, path)
        os.replace(self.checksum, path + CHECKSUM)

    def discard(self) -> None:
        """Closes and removes the partial files still there (after a failure)."""
        self.file.close()
        for partial in filter(None, (self.partial, self.checksum)):
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)

    def _guarded(self, action, name: str | None = None) -> None:
        try:
            action()
        except OSError as error:  # the bare write error does not say which file
            raise OSError(error.errno, error.strerror, name or self.partial) from None


def _write_text(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)
