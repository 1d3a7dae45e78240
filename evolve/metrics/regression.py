"""Regression errors: mean squared and mean absolute error of the outputs against the targets."""

from __future__ import annotations

import numpy as np


def _residuals(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Outputs minus targets, per value; the outputs are reshaped to the targets' shape (the check before work
    guarantees the same number of values per sample, so [N, 1] outputs fit [N] targets)."""
    return scores.astype(np.float64).reshape(targets.shape) - targets.astype(np.float64)


def mse(scores: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(_residuals(scores, targets) ** 2))


def mae(scores: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(np.abs(_residuals(scores, targets))))
