"""Accuracy: the fraction of samples whose top score is the label."""

from __future__ import annotations

import numpy as np


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """`scores` [N, C], `labels` [N] class indices. Ties go to the lowest class index (numpy's argmax)."""
    return float(np.mean(scores.argmax(axis=1) == labels))
