"""A user's own metric: the mean of per-class recalls (balanced accuracy), from scores and labels."""

import numpy as np


def balanced_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    predictions = scores.argmax(axis=1)
    recalls = [np.mean(predictions[labels == c] == c) for c in np.unique(labels)]
    return float(np.mean(recalls))
