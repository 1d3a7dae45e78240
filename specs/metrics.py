"""A user metric for specs: `metric balanced = python("metrics.py:balanced_accuracy")`.

stitchc calls it with the candidate's scores ([N, C] numpy array) and the split's labels ([N]) and expects a
float; it must not raise and must return a finite number.
"""

import numpy as np


def balanced_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """The mean over classes of the fraction of that class's samples whose top score is the class."""
    hits = scores.argmax(axis=1) == labels
    return float(np.mean([hits[labels == c].mean() for c in np.unique(labels)]))
