"""Load a checked model declaration into the IR: ONNX files directly, torch modules through their export."""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, TensorType, load_onnx

from .program import ModelSpec


def load_parent(spec: ModelSpec) -> Graph:
    """The parent's graph, named after the declaration; raises ModelLoadError naming the file and cause."""
    if spec.format == "onnx":
        return load_onnx(spec.path, parent=spec.name)
    from stitchc.ir.torch_import import load_torch  # torch is imported only for torch parents

    input_type = TensorType(np.dtype(spec.input.dtype), tuple(spec.input.shape))
    return load_torch(f"{spec.path}:{spec.entry}", spec.weights, input_type, parent=spec.name)
