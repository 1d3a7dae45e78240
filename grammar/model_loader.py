"""Load a checked model declaration into the IR: ONNX files directly, torch modules through their export.

A torch model declared without `weights` keeps the random initialisation of its constructor; that is
allowed (tests, smoke runs) but said once per model on stderr, since stitches fitted to random features
are meaningless.
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np

from stitchc.ir import Graph, ModelLoadError, TensorType, load_onnx
from stitchc.ir.printable import printable

from .finite_weights import non_finite_weight
from .program import ModelSpec


def load_parent(spec: ModelSpec) -> Graph:
    """The parent's graph, named after the declaration; raises ModelLoadError naming the file and cause (a
    weight holding NaN or Inf included: see finite_weights.py)."""
    graph = _import(spec)
    broken = non_finite_weight(graph)
    if broken is not None:
        raise ModelLoadError(spec.weights or spec.path, broken)
    if spec.format == "torch" and spec.weights is None:  # said once the model loads: errors about it come first
        _warn_random_weights(spec.name, f"{os.path.basename(spec.path)}:{spec.entry}")
    return graph


def _import(spec: ModelSpec) -> Graph:
    if spec.format == "onnx":
        return load_onnx(spec.path, parent=spec.name)
    from stitchc.ir.torch_import import load_torch  # torch is imported only for torch parents

    input_type = TensorType(np.dtype(spec.input.dtype), tuple(spec.input.shape))
    return load_torch(f"{spec.path}:{spec.entry}", spec.weights, input_type, parent=spec.name)


@functools.cache
def _warn_random_weights(name: str, module: str) -> None:
    print(
        printable(f"stitchc: warning: model '{name}' ({module}) has no `weights`: it runs with random initial weights"),
        file=sys.stderr,
        flush=True,
    )
