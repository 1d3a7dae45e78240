"""stitchc: a declarative graph-IR compiler that recombines trained neural networks."""
from stitchc.ir import Graph, load_onnx as load

__all__ = ["Graph", "load"]
