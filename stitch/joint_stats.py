"""The sufficient statistics of every stitch of a supernet, accumulated batch by batch in float64.

A view is the rows a stitch is fitted on (its target's pixels, see rows.py) and the features it relates
there: its source as the 1×1 map sees it and its target. A matched pair's two stitches have the same view
when neither resamples (same pixels, same two features), so one joint Gram matrix of [x_a, x_b, 1] holds
every statistic of both directions: its blocks are each direction's Gram, cross products and sums of
squares. Features are taken about an origin, the first sample's mean feature (per channel, over its
pixels), so that float64 sums of squares keep the variance of features far from zero. Gram matrices are
symmetric: the training rows' Gram is kept in the lower triangle and the held-out rows' in the strict
upper triangle of one array (the held-out diagonal apart). Memory: one (C_a + C_b + 1)² float64 array
per matched pair, freed once both its stitches are fitted.
"""

from __future__ import annotations

import numpy as np

from .ridge import RidgeStats
from .rows import gather, kept_pixels, row_positions
from .supernet import Stitch

HOLDOUT_EVERY = 5  # sample i is held out when i % 5 == 4


class _View:
    """One joint Gram: its column blocks (point value id, resampling) in order, then the column of ones."""

    def __init__(self, spatial: tuple):
        self.spatial = spatial
        self.blocks: list[tuple[int, int]] = []
        self.offsets: list[int] = [0]
        self.joint: np.ndarray | None = None
        self.held_out_diagonal: np.ndarray | None = None
        self.origin: np.ndarray | None = None  # per column but the ones, set by the first batch
        self.pending = 0  # stitches whose statistics have not been taken yet

    def columns(self, point_id: int, resample: int, channels: int) -> np.ndarray:
        """The column indices of a block, added when new."""
        if (point_id, resample) not in self.blocks:
            self.blocks.append((point_id, resample))
            self.offsets.append(self.offsets[-1] + channels)
        index = self.blocks.index((point_id, resample))
        return np.arange(self.offsets[index], self.offsets[index + 1])

    def allocate(self) -> None:
        size = self.offsets[-1] + 1
        self.joint, self.held_out_diagonal = np.zeros((size, size)), np.zeros(size)

    def add(self, rows: np.ndarray, side: int) -> None:
        """Adds the rows' products to the training (side 0) or held-out (side 1) triangle, in place (BLAS
        syrk writes one triangle, diagonal included: the held-out diagonal is moved apart)."""
        from scipy.linalg.blas import dsyrk  # imported here: scipy costs start-up time `stitchc check` saves

        diagonal = np.diag(self.joint).copy() if side == 1 else None
        dsyrk(1.0, rows.T, beta=1.0, c=self.joint.T, lower=side, overwrite_c=1)  # joint.T: Fortran order
        if side == 1:
            self.held_out_diagonal += np.diag(self.joint) - diagonal
            np.fill_diagonal(self.joint, diagonal)

    def gram(self, columns: np.ndarray, side: int) -> np.ndarray:
        """One side's Gram matrix over these (ascending) columns: its triangle, mirrored in place."""
        block = self.joint[np.ix_(columns, columns)]
        for row in range(len(columns)):
            if side == 0:
                block[row, row + 1 :] = block[row + 1 :, row]
            else:
                block[row, :row] = block[:row, row]
        if side == 1:
            block[np.diag_indices_from(block)] = self.held_out_diagonal[columns]
        return block

    def cross(self, rows: np.ndarray, columns: np.ndarray, side: int) -> np.ndarray:
        """The rows × columns block of one side's Gram matrix, for disjoint rows and columns."""
        direct, mirrored = self.joint[np.ix_(rows, columns)], self.joint[np.ix_(columns, rows)].T
        lower = rows[:, None] > columns[None, :]
        return np.where(lower if side == 0 else ~lower, direct, mirrored)


class JointStats:
    """The statistics of `stitches` over `samples` fit samples, train and held-out sides."""

    def __init__(self, stitches: list[Stitch], samples: int):
        self.samples = samples
        self.views: dict[tuple, _View] = {}
        self.columns: dict[str, tuple[_View, np.ndarray, np.ndarray]] = {}
        for stitch in stitches:
            source, target = (id(stitch.source.value), stitch.resample), (id(stitch.target.value), 1)
            view = self.views.setdefault(
                (frozenset({source, target}), stitch.target.spatial), _View(stitch.target.spatial)
            )
            view.pending += 1
            self.columns[stitch.name] = (
                view,
                view.columns(*source, stitch.source.channels),
                view.columns(*target, stitch.target.channels),
            )
        for view in self.views.values():
            view.allocate()

    def add(self, part: slice, features: dict[int, np.ndarray]) -> None:
        """Adds one batch: `features` holds the batch's features of every point, by id(point value)."""
        indices = np.arange(part.start, part.start + len(next(iter(features.values()))))
        held_out = indices % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
        pixels = {}
        for view in self.views.values():
            if view.spatial and view.spatial not in pixels:
                pixels[view.spatial] = kept_pixels(indices, view.spatial, self.samples)
            if view.origin is None:
                first = np.arange(len(indices)) == 0
                all_pixels = np.ones((len(indices), *view.spatial), dtype=bool) if view.spatial else None
                view.origin = self._rows(view, features, row_positions(first, all_pixels))[:, :-1].mean(axis=0)
            for side, samples in enumerate((~held_out, held_out)):
                if samples.any():
                    rows = self._rows(view, features, row_positions(samples, pixels.get(view.spatial)))
                    rows[:, :-1] -= view.origin
                    view.add(rows, side)

    @staticmethod
    def _rows(view: _View, features: dict[int, np.ndarray], where) -> np.ndarray:
        """The view's float64 columns at the rows `where`, the last one all ones."""
        count = len(where[0] if isinstance(where, tuple) else where)
        rows = np.ones((count, view.offsets[-1] + 1))
        for (point, resample), start, end in zip(view.blocks, view.offsets, view.offsets[1:]):
            rows[:, start:end] = gather(features[point], resample, where)
        return rows

    def stats(self, stitch: Stitch) -> tuple[RidgeStats, RidgeStats]:
        """The stitch's train and held-out statistics, taken once: a view's arrays are freed when its last
        stitch has taken them (the supernet lists a pair's two stitches together)."""
        view, source, target = self.columns.pop(stitch.name)
        inputs = np.append(source, view.offsets[-1])  # the source's columns, then the ones
        sides = tuple(
            RidgeStats(
                view.gram(inputs, side),
                view.cross(inputs, target, side),
                view.joint[target, target] if side == 0 else view.held_out_diagonal[target],
                view.origin[source],
                view.origin[target],
            )
            for side in (0, 1)
        )
        view.pending -= 1
        if view.pending == 0:
            view.joint = view.held_out_diagonal = None
        return sides
