"""The rows of a stitch's least-squares problem: pixels are samples for a 1×1 convolution.

A row is one pixel of one sample at the target's spatial size (one sample for [N, C] features); the source
feature is first made what the stitch's 1×1 map sees there: k×k mean-pooled, or read at (h // k, w // k)
when the stitch upsamples ×k. Beyond MAX_ROWS rows over all samples, sample i keeps each pixel with
probability MAX_ROWS / (samples·H·W), drawn from a generator seeded by (i, H, W) alone: the same pixels
for a stitch's source and target, and for any batching of the samples.
"""

from __future__ import annotations

import numpy as np

MAX_ROWS = 2**16  # rows per stitch beyond which pixels are subsampled (≥ 128 rows per input channel to C_in = 512)


def as_rows(features: np.ndarray) -> np.ndarray:
    """[N, C] stays; [N, C, H, W] becomes [N*H*W, C] (pixels are samples for a 1×1 conv)."""
    if features.ndim == 2:
        return np.asarray(features, dtype=np.float32)
    return np.ascontiguousarray(np.moveaxis(np.asarray(features, dtype=np.float32), 1, -1)).reshape(
        -1, features.shape[1]
    )


def resample_source(features: np.ndarray, resample: int) -> np.ndarray:
    """What the stitch's 1×1 map sees, aligned with the target's pixels: k×k mean-pooled or ×k repeated."""
    if resample > 1:
        n, c, h, w = features.shape
        return features.reshape(n, c, h // resample, resample, w // resample, resample).mean(axis=(3, 5))
    if resample < -1:
        k = -resample
        return np.repeat(np.repeat(features, k, axis=2), k, axis=3)
    return features


def kept_pixels(indices: np.ndarray, spatial: tuple, samples: int) -> np.ndarray:
    """[len(indices), H, W] mask of the pixels that samples number `indices` (of `samples`) contribute."""
    height, width = spatial
    fraction = MAX_ROWS / (samples * height * width)
    if fraction >= 1.0:
        return np.ones((len(indices), height, width), dtype=bool)
    return np.stack(
        [np.random.default_rng([int(i), height, width]).random((height, width)) < fraction for i in indices]
    )


def row_positions(samples: np.ndarray, pixels: np.ndarray | None):
    """Where the rows of the chosen samples (a boolean mask over the batch) are: (sample, row, column)
    indices of their kept pixels, or the samples' indices for [N, C] features (`pixels` None)."""
    if pixels is None:
        return np.nonzero(samples)[0]
    return np.nonzero(pixels & samples[:, None, None])


def gather(batch: np.ndarray, resample: int, where) -> np.ndarray:
    """The [rows, C] features of a batch at `where` (from row_positions), as the stitch's 1×1 map sees them."""
    if not isinstance(where, tuple):
        return batch[where]
    n, h, w = where
    if resample < -1:  # nearest upsampling: target pixel (h, w) reads source pixel (h // k, w // k)
        return batch[n, :, h // -resample, w // -resample]
    return resample_source(batch, resample)[n, :, h, w] if resample > 1 else batch[n, :, h, w]
