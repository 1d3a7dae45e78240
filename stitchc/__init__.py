"""stitchc: a declarative graph-IR compiler that recombines trained neural networks.

Python API: `load(path) -> Graph` (ONNX), `from_torch(module, example_inputs) -> Graph`,
`load_torch("file.py:Class", weights, input_type) -> Graph`; a Graph lowers with `to_onnx()` and
`to_torch()` and reports its cost with `macs()` and `params()`.
"""
from stitchc.ir import Graph, load_onnx as load
from stitchc.ir.torch_import import from_torch, load_torch

__all__ = ["Graph", "from_torch", "load", "load_torch"]
