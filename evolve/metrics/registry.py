"""Built-in metric name -> implementation. The names, directions and arguments are those of the one table
in stitchc.grammar.metric_table (which the checker reads too); every name there has an entry here."""

from __future__ import annotations

from functools import partial

from stitchc.ir import Graph

from .accuracy import accuracy
from .f1 import f1
from .latency import latency
from .loss import loss
from .regression import mae, mse
from .topk import topk

# measured on a data split: function(scores, labels, **arguments) -> float
SCORE_METRICS = {
    "accuracy": accuracy,
    "top5": partial(topk, k=5),
    "topk": topk,
    "f1": f1,
    "loss": loss,
    "mse": mse,
    "mae": mae,
}


def _macs(graph: Graph) -> int:
    return int(graph.macs())


def _params(graph: Graph) -> int:
    return int(graph.params())


# measured on the model alone: function(graph, **arguments) -> number
def _train_steps(graph: Graph) -> int:
    return int(graph.trained_steps)


COST_METRICS = {"macs": _macs, "params": _params, "latency": latency, "train_steps": _train_steps}
