"""A parent's weights must be finite: a NaN (or an infinite weight) makes every stitch fitted on it and every
candidate that uses it meaningless, yet runs without complaint. Checked once, when the parent loads."""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph

# Ops whose constant inputs are learned weights (an infinite value there is never intended; elsewhere an
# infinite constant can be a mask or a clip bound)
WEIGHTED = {
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
}


def non_finite_weight(graph: Graph) -> str | None:
    """Why the graph's weights are broken: its first constant holding NaN (any float constant) or ±Inf (a
    constant input of a weighted op), named with its count of such values; None when all are finite."""
    seen: set[int] = set()
    for node in graph.nodes:
        for value in node.inputs:
            if value is None or value.const is None or id(value) in seen:
                continue
            seen.add(id(value))
            array = value.const
            if array.dtype.kind != "f" or array.size == 0:
                continue
            nan = int(np.count_nonzero(np.isnan(array)))
            inf = int(np.count_nonzero(np.isinf(array))) if node.op in WEIGHTED else 0
            if nan or inf:
                found = " and ".join(
                    text for count, text in ((nan, f"{nan:,} NaN"), (inf, f"{inf:,} infinite")) if count
                )
                return f"parameter '{value.name}' holds {found} of {array.size:,} values"
    return None
