"""The fixed reference point of the hypervolume: per objective, the worst value counted and the ideal.

Both are set before the search from what is known then (the labels, the supernetwork, the parents), never
from the candidates found, so hypervolumes of generations, reruns and algorithms compare:

    objective                  reference (worst counted)                      ideal                   scale
    accuracy, top5, topk, f1   0                                              1                       linear
    loss                       ln C: a uniform guess over the C label classes 0                       linear
    mse                        predicting each target's mean (its variance)   0                       linear
    mae                        predicting each target's median                0                       linear
    user metric                its range's LOW (maximized) or HIGH (minimized) the other end          linear
    macs, params               the supernetwork's total (parents + stitches)  half the cheapest parent log10
                               (a search over one model: ten times its own,
                               room for the candidates its morphisms grow)
    latency                    twice the parents' latencies summed            half the fastest parent log10
    train_steps                the search's `train` steps + 1                 0                       linear
"""

from __future__ import annotations

import math

import numpy as np

from stitchc.grammar.program import MetricSpec, ObjectiveSpec
from stitchc.ir import Graph

from .hypervolume import Axis
from .objectives import Evaluation


def reference_axes(
    objectives: tuple[ObjectiveSpec, ...],
    metrics: dict[str, MetricSpec],
    splits: dict,
    parents: list[Evaluation],
    supernet: Graph,
    train_steps: int = 0,
) -> list[Axis]:
    """One Axis per objective (see the table above); `parents` are the parents' own evaluations, `train_steps`
    the steps of the search's `train` setting (0: none)."""
    axes = [_axis(o, i, metrics, splits, parents, supernet) for i, o in enumerate(objectives)]
    return [Axis(train_steps + 1, 0.0) if o.metric == "train_steps" else a for o, a in zip(objectives, axes)]


def _axis(objective: ObjectiveSpec, index: int, metrics, splits, parents, supernet: Graph) -> Axis:
    name, maximize = objective.metric, objective.direction == "maximize"
    if name in metrics:
        low, high = metrics[name].range
        return Axis(low, high) if maximize else Axis(high, low)
    if name == "train_steps":
        return Axis(1.0, 0.0)  # replaced by reference_axes, which knows the search's steps
    if name in ("macs", "params", "latency"):
        own = [p.values[index] for p in parents]
        if name == "latency":
            return Axis(2 * sum(own), min(own) / 2, log=True)
        total = supernet.macs() if name == "macs" else supernet.params()
        total = 10 * own[0] if len(parents) == 1 else total
        return Axis(max(total, min(own) + 1), max(1, min(own) // 2), log=True)
    labels = splits[(objective.data, objective.split)].labels()
    if name == "loss":
        return Axis(math.log(int(labels.max()) + 1), 0.0)
    targets = labels.astype(np.float64)
    if name == "mse":
        return Axis(float(np.mean(np.var(targets, axis=0))), 0.0)
    if name == "mae":
        return Axis(float(np.mean(np.abs(targets - np.median(targets, axis=0)))), 0.0)
    return Axis(0.0, 1.0)
