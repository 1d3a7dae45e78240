"""stitchc: a declarative graph-IR compiler that recombines trained neural networks."""
from stitchc.ir import Graph, load_onnx as load
from stitchc.passes.base import register_pass

__all__ = ["Graph", "load", "register_pass"]
