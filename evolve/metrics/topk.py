"""Top-k accuracy: the fraction of samples whose label is among the k highest scores."""

from __future__ import annotations

import numpy as np


def topk(scores: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """`scores` [N, C], `labels` [N] class indices. A label counts when fewer than k other classes score at
    least as high: ties count against the model, so a constant output never looks good."""
    own = scores[np.arange(len(labels)), labels]
    others_at_least = (scores >= own[:, None]).sum(axis=1) - 1
    return float(np.mean(others_at_least < k))
