"""Loss: the mean cross-entropy of the softmax of the model's scores, taken as logits."""

from __future__ import annotations

import numpy as np


def loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """`scores` [N, C] logits, `labels` [N] class indices; computed as log-sum-exp minus the label's logit,
    in float64 (stable for large logits). A model whose output is already a softmax is scored as if those
    probabilities were logits."""
    logits = scores.astype(np.float64)
    peak = logits.max(axis=1, keepdims=True)
    log_total = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
    return float(np.mean(log_total - logits[np.arange(len(labels)), labels]))
