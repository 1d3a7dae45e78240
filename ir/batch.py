"""The batch of a graph: the one symbolic dim its inputs declare (e.g. 'N'), and the dims that are multiples of it.

A dim that is k times the batch is written as the symbol itself (k = 1) or as 'k*N' (windowed attention
folds 64 windows per sample into dim 0: '64*N'). A graph whose inputs are all static has an int batch: the
leading dim of its first input.
"""

from __future__ import annotations

import re

from .graph import Graph
from .types import Dim, TensorType

_MULTIPLE = re.compile(r"(\d+)\*(.+)")


def input_batch(graph: Graph) -> Dim:
    """The batch symbol when the inputs' shapes hold exactly one symbol and no unknown dim; the leading dim of
    the first input when every input dim is an int; None otherwise (several symbols, unknown shapes)."""
    shapes = [v.type.shape for v in graph.inputs if isinstance(v.type, TensorType)]
    if not shapes or len(shapes) != len(graph.inputs) or any(s is None for s in shapes):
        return None
    dims = [d for shape in shapes for d in shape]
    if any(d is None for d in dims):
        return None
    symbols = {d for d in dims if isinstance(d, str)}
    if len(symbols) == 1:
        return symbols.pop()
    if not symbols and shapes[0]:
        return shapes[0][0]
    return None


def batch_factor(dim: Dim, batch: Dim) -> int | None:
    """k when `dim` is k times the batch symbol `batch` ('N' -> 1, '64*N' -> 64); None for any other dim."""
    if not isinstance(batch, str) or not isinstance(dim, str):
        return None
    if dim == batch:
        return 1
    match = _MULTIPLE.fullmatch(dim)
    return int(match.group(1)) if match and match.group(2) == batch else None


def batch_multiple(factor: int, batch: str) -> str:
    """The dim that is `factor` times the batch symbol."""
    return batch if factor == 1 else f"{factor}*{batch}"
