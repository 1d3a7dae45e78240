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

from stitchc.ir import Graph, TensorType, load_onnx
from stitchc.ir.printable import printable

from .program import ModelSpec


def load_parent(spec: ModelSpec) -> Graph:
    """The parent's graph, named after the declaration; raises ModelLoadError naming the file and cause."""
    if spec.format == "onnx":
        return load_onnx(spec.path, parent=spec.name)
    from stitchc.ir.torch_import import load_torch  # torch is imported only for torch parents

    input_type = TensorType(np.dtype(spec.input.dtype), tuple(spec.input.shape))
    graph = load_torch(f"{spec.path}:{spec.entry}", spec.weights, input_type, parent=spec.name)
    if spec.weights is None:  # said once the model loads, so an error about the model comes first
        _warn_random_weights(spec.name, f"{os.path.basename(spec.path)}:{spec.entry}")
    return graph


@functools.cache
def _warn_random_weights(name: str, module: str) -> None:
    print(
        printable(f"stitchc: warning: model '{name}' ({module}) has no `weights`: it runs with random initial weights"),
        file=sys.stderr,
        flush=True,
    )
