"""Macro F1: the unweighted mean over classes of 2·TP / (2·TP + FP + FN) of the top-score predictions."""

from __future__ import annotations

import numpy as np


def f1(scores: np.ndarray, labels: np.ndarray) -> float:
    """`scores` [N, C], `labels` [N] class indices. Averages over the classes that occur as a label or as a
    prediction (as sklearn.metrics.f1_score(average="macro") does)."""
    predicted = scores.argmax(axis=1)
    size = int(max(predicted.max(initial=0), labels.max(initial=0))) + 1
    true_positive = np.bincount(labels[predicted == labels], minlength=size)
    label_count = np.bincount(labels, minlength=size)
    predicted_count = np.bincount(predicted, minlength=size)
    present = (label_count + predicted_count) > 0
    per_class = 2 * true_positive[present] / (label_count[present] + predicted_count[present])
    return float(per_class.mean())
