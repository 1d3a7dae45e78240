"""Results back as PyTorch: each exported `front_NN.onnx` of a front becomes `front_NN.pt2` (torch.export).

Guarantees: a .pt2 is made from its ONNX twin's own bytes (imported into the IR, lowered to torch, exported
with `torch.export.export`), so both compute the same function; every symbolic input dimension (the batch)
stays dynamic; `torch.export.load(path).module()` runs it with torch alone, stitchc need not be installed;
the ONNX file's stitchc metadata travels inside the archive as the extra file `stitchc.json` (read it with
`torch.export.load(path, extra_files={"stitchc.json": ""})`). torch is imported only when this module is.
"""

from __future__ import annotations

import io
import json
import os
import re

import numpy as np
import onnx
import torch

from stitchc.ir import ModelLoadError, from_onnx
from stitchc.ir.torch_lower import TorchLoweringError

from .folder_swap import publish
from .metadata import EXTRA_FILE, read
from .report import atomic_write

EXAMPLE_SIZE = 2  # a symbolic dimension's size while tracing (torch.export specialises sizes 0 and 1)


class TorchExportError(Exception):
    """A model cannot be exported to torch; the message names the file and the cause."""


def export_front(onnx_dir: str, torch_dir: str, files: list[str]) -> list[str]:
    """Writes `<name>.pt2` in torch_dir for each `<name>.onnx` of `files` in onnx_dir, publishing torch_dir in
    one swap (folder_swap.py) that also drops stale front_*.pt2 files; returns the paths written."""

    def write(staging: str) -> None:
        for name in files:
            try:
                export_pt2(os.path.join(onnx_dir, name), os.path.join(staging, _pt2_name(name)))
            except TorchExportError as error:  # named by the file it would have become
                raise TorchExportError(str(error).replace(staging, torch_dir, 1)) from None

    publish(torch_dir, write, lambda name: name.startswith("front_") and name.endswith((".pt2", ".pt2.tmp")))
    return [os.path.join(torch_dir, _pt2_name(f)) for f in files]


def export_pt2(onnx_path: str, pt2_path: str) -> str:
    """Exports one ONNX model file to a .pt2 archive; returns pt2_path."""
    model = onnx.load(onnx_path)
    try:
        graph = from_onnx(model, os.path.splitext(os.path.basename(onnx_path))[0])
        examples, dynamic = _example_inputs(graph)
        program = torch.export.export(graph.to_torch(), examples, dynamic_shapes=dynamic)
    except (ModelLoadError, TorchLoweringError, RuntimeError, ValueError) as error:  # torch.export's derive from these
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TorchExportError(f"{pt2_path}: cannot export {os.path.basename(onnx_path)} to torch ({cause})") from None
    archive = io.BytesIO()
    torch.export.save(program, archive, extra_files={EXTRA_FILE: json.dumps(read(model), sort_keys=True)})
    atomic_write(pt2_path, archive.getvalue())
    return pt2_path


def _pt2_name(onnx_name: str) -> str:
    return os.path.splitext(onnx_name)[0] + ".pt2"


def _example_inputs(graph) -> tuple[tuple[torch.Tensor, ...], tuple[dict, ...]]:
    """Zero tensors of the inputs' types and, per input, a torch.export Dim for each symbolic dimension (one
    Dim per symbol, shared between inputs)."""
    dims: dict[str, torch.export.Dim] = {}
    examples, dynamic = [], []
    for value in graph.inputs:
        if value.type is None or value.type.shape is None or any(d is None for d in value.type.shape):
            raise TorchLoweringError(f"input {value.name} has no known shape ({value.type})")
        shape = [d if isinstance(d, int) else EXAMPLE_SIZE for d in value.type.shape]
        examples.append(torch.from_numpy(np.zeros(shape, dtype=value.type.dtype)))
        dynamic.append(
            {
                axis: dims.setdefault(d, torch.export.Dim(_identifier(d)))
                for axis, d in enumerate(value.type.shape)
                if isinstance(d, str)
            }
        )
    return tuple(examples), tuple(dynamic)


def _identifier(symbol: str) -> str:
    name = re.sub(r"\W", "_", symbol)
    return name if name and not name[0].isdigit() else f"d_{name}"
