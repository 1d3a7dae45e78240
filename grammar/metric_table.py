"""The built-in metrics: the one table that the checker (names, hints, arguments, directions) and the
evaluator (stitchc.evolve.metrics, which maps each name here to its implementation) both read.

A metric is measured either on a labelled data split (`accuracy(digits.val)`: the candidate's scores
against the labels) or on the model alone (`macs`, `params`, `latency(batch = 1)`). Every built-in metric
has one sensible direction; user metrics (`metric NAME = python("file.py:fn")`) may go either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricSignature:
    direction: str  # "maximize" | "minimize": the only direction the checker accepts
    on_data: bool  # measured on DATA.SPLIT (True) or on the model alone (False)
    target: str | None  # what the model's output must fit: "classes" ([N, C] scores), "values" (regression)
    summary: str  # one line, for hints and the reference
    params: dict[str, tuple[int, int]] = field(default_factory=dict)  # keyword -> (default, minimum)


BUILTIN_METRICS: dict[str, MetricSignature] = {
    "accuracy": MetricSignature("maximize", True, "classes", "fraction of samples whose top score is the label"),
    "top5": MetricSignature("maximize", True, "classes", "fraction of samples whose label is among the 5 top scores"),
    "topk": MetricSignature(
        "maximize", True, "classes", "fraction of samples whose label is among the k top scores", {"k": (5, 1)}
    ),
    "f1": MetricSignature("maximize", True, "classes", "macro-averaged F1 score of the top-score predictions"),
    "loss": MetricSignature("minimize", True, "classes", "mean cross-entropy of the softmax of the scores"),
    "mse": MetricSignature("minimize", True, "values", "mean squared error of the outputs against the targets"),
    "mae": MetricSignature("minimize", True, "values", "mean absolute error of the outputs against the targets"),
    "macs": MetricSignature("minimize", False, None, "multiply-accumulates per sample (cost model)"),
    "params": MetricSignature("minimize", False, None, "parameters of the candidate (cost model)"),
    "train_steps": MetricSignature(
        "minimize", False, None, "optimiser steps the candidate was fine-tuned for (the search's `train`)"
    ),
    "latency": MetricSignature(
        "minimize", False, None, "median milliseconds per batch in ONNX Runtime (noisy)", {"batch": (1, 1)}
    ),
}
