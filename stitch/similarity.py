"""Linear CKA (Kornblith et al. 2019) between the features of two stitch points on the same samples.

CKA(X, Y) = ⟨K_c, L_c⟩ / (‖K_c‖ ‖L_c‖) with K = X Xᵀ, L = Y Yᵀ the per-sample Gram matrices, centred.
It is invariant to orthogonal transforms and isotropic scaling, so it compares representations of
different widths; 1 means linearly identical up to those transforms.
"""

from __future__ import annotations

import tempfile

import numpy as np

from .feature_cache import cached_features
from .points import stitch_points


def centred_gram(features: np.ndarray) -> np.ndarray:
    flat = features.reshape(len(features), -1).astype(np.float64)
    flat = flat - flat.mean(axis=0)
    return flat @ flat.T


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    gram_x, gram_y = centred_gram(x), centred_gram(y)
    denominator = np.linalg.norm(gram_x) * np.linalg.norm(gram_y)
    return float(np.sum(gram_x * gram_y) / denominator) if denominator > 0 else 0.0


def cka_matrix(features_a: list[np.ndarray], features_b: list[np.ndarray]) -> np.ndarray:
    """s[i, j] = CKA between point i of A and point j of B (Gram matrices computed once per point)."""
    grams_a = [centred_gram(f) for f in features_a]
    grams_b = [centred_gram(f) for f in features_b]
    norms_a = [np.linalg.norm(g) for g in grams_a]
    norms_b = [np.linalg.norm(g) for g in grams_b]
    scores = np.zeros((len(grams_a), len(grams_b)))
    for i, (gram_a, norm_a) in enumerate(zip(grams_a, norms_a)):
        for j, (gram_b, norm_b) in enumerate(zip(grams_b, norms_b)):
            scores[i, j] = np.sum(gram_a * gram_b) / (norm_a * norm_b) if norm_a * norm_b > 0 else 0.0
    return scores


CKA_SAMPLES = 256


def cka_similarity(graph_a, graph_b, x: np.ndarray) -> np.ndarray:
    """CKA between every stitch point of A and of B on inputs `x`. The features go to a temporary folder, read
    one point at a time (memory: one point's features) and removed on return: nothing stays on disk."""
    points_a, points_b = stitch_points(graph_a), stitch_points(graph_b)
    with tempfile.TemporaryDirectory(prefix="stitchc-cka-") as folder:
        features_a = cached_features(graph_a, points_a, x, folder)
        features_b = cached_features(graph_b, points_b, x, folder)
        return cka_matrix([features_a[id(p.value)] for p in points_a], [features_b[id(p.value)] for p in points_b])
