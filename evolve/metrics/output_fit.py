"""Check before work: does a model's output fit a metric, against the labels of the split it is measured on?

Classification metrics (accuracy, top5, topk, f1, loss) need integer class labels, one per sample, and
[N, C] scores with C at least the number of classes the labels name (and at least k for top-k); regression
metrics (mse, mae) need as many output values per sample as there are target values. User metrics accept
whatever their function accepts, so they are not checked here.
"""

from __future__ import annotations

import math

import numpy as np

from stitchc.grammar.metric_table import BUILTIN_METRICS
from stitchc.grammar.program import ObjectiveSpec
from stitchc.ir import TensorType


def output_mismatch(objective: ObjectiveSpec, model: str, output: TensorType, labels: np.ndarray) -> str | None:
    """Why model `model`'s output cannot be scored by the objective's metric against `labels` (both shapes
    named), or None. The reason reads after the objective's name: "needs [N, C] scores with C >= 10 (labels
    0..9), model a outputs float32[N, 5]"."""
    signature = BUILTIN_METRICS.get(objective.metric)
    if signature is None or signature.target is None:
        return None
    shape = output.shape
    if signature.target == "values":
        per_sample = _size(shape[1:]) if shape else None
        if per_sample is not None and per_sample != _size(labels.shape[1:]):
            targets = _dims(("N", *labels.shape[1:]))
            return f"needs one output value per target value (targets {targets}), model {model} outputs {output}"
        return None
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        found = f"{labels.dtype.name}{_dims(('N', *labels.shape[1:]))}"
        return f"needs one integer class label per sample, the labels of {objective.data}.{objective.split} are {found}"
    if shape is None or len(shape) != 2:
        return f"needs [N, C] scores, model {model} outputs {output}"
    classes = int(labels.max(initial=0)) + 1
    if isinstance(shape[1], int) and shape[1] < classes:
        return f"needs [N, C] scores with C >= {classes} (labels 0..{classes - 1}), model {model} outputs {output}"
    k = dict(objective.args).get("k", 5 if objective.metric == "top5" else None)
    if k is not None and isinstance(shape[1], int) and shape[1] < k:
        return f"needs at least {k} scores per sample, model {model} outputs {output}"
    return None


def _size(dims) -> int | None:
    return math.prod(dims) if all(isinstance(d, int) for d in dims) else None


def _dims(dims) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"
