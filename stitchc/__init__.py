"""stitchc: a declarative graph-IR compiler that recombines trained neural networks.

Python API: `load(path) -> Graph` (ONNX), `from_torch(module, example_inputs) -> Graph`,
`load_torch("file.py:Class", weights, input_type) -> Graph`; a Graph lowers with `to_onnx()` and
`to_torch()` and reports its cost with `macs()` and `params()`. torch is imported only when used.
"""

from stitchc.ir import Graph, load_onnx as load
from stitchc.passes.base import register_pass

__all__ = ["Graph", "from_torch", "load", "load_torch", "register_pass"]


def __getattr__(name: str):
    if name in ("from_torch", "load_torch"):
        from stitchc.ir import torch_import

        return getattr(torch_import, name)
    raise AttributeError(f"module 'stitchc' has no attribute '{name}'")
