"""`stitchc inspect MODEL`: inputs, outputs, op histogram, MACs and params (total and per node), stitch points,
and what constant folding left unfolded for its size.

Every line is passed through `printable`: names from the file cannot reach the terminal as control sequences.
"""

from __future__ import annotations

import collections

from stitchc.ir import Graph, load_onnx
from stitchc.ir.batch import input_batch
from stitchc.ir.cost import CostError, node_macs, node_params
from stitchc.ir.printable import printable
from stitchc.stitch.points import stitch_points


def inspect_model(path: str) -> str:
    """The report `stitchc inspect` prints; raises ModelLoadError for unreadable models."""
    graph = load_onnx(path)
    lines = [
        f"model {graph.name}: {len(graph.nodes)} nodes, opsets "
        + ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in sorted(graph.opset_imports.items()))
    ]
    lines += ["inputs:"] + [f"  {v.name}: {v.type}" for v in graph.inputs]
    lines += ["outputs:"] + [f"  {v.name}: {v.type}" for v in graph.outputs]
    histogram = collections.Counter(n.op for n in graph.nodes)
    lines.append("ops: " + ", ".join(f"{op} {count}" for op, count in histogram.most_common()))
    lines += _costs(graph)
    points = stitch_points(graph)
    lines.append(f"stitch points: {len(points)}")
    lines += [f"  {p.label:<32} {p.value.type}" for p in points]
    lines += [f"left unfolded: {reason}" for reason in graph.unfolded]
    return "\n".join(printable(line) for line in lines)


def _costs(graph: Graph) -> list[str]:
    try:
        batch = input_batch(graph)
        macs = [(node, node_macs(node, batch), node_params(node)) for node in graph.nodes]
    except CostError as error:
        return [f"MACs: unknown ({error})", f"params: {graph.params():,}"]
    lines = [f"MACs: {sum(m for _, m, _ in macs):,} per sample", f"params: {graph.params():,}", "cost per node:"]
    width = max((len(n.name) for n, m, p in macs if m or p), default=4)
    lines += [f"  {node.name:<{width}} {node.op:<20} {m:>15,} MACs {p:>12,} params" for node, m, p in macs if m or p]
    return lines
