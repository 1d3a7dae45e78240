"""The `racing` setting of a search: a confidence in (0, 1), for searches whose data objectives are means of
per-sample scores in [0, 1] (stitchc.evolve.racing bounds them with Hoeffding's inequality)."""

from __future__ import annotations

from . import ast
from .program import ObjectiveSpec

RACEABLE_METRICS = ("accuracy", "top5", "topk")


def racing_confidence(checker, expr: ast.Expr, objectives: tuple[ObjectiveSpec, ...]) -> float:
    """The confidence of `racing = c`; reports an error through `checker` (and raises it) when it cannot apply."""
    if not isinstance(expr, ast.Number) or not 0 < expr.value < 1:
        raise checker.error(expr.span, "'racing' must be a confidence between 0 and 1, such as 0.95")
    other = [o.label for o in objectives if o.data is not None and o.metric not in RACEABLE_METRICS]
    if other:
        raise checker.error(
            expr.span, f"racing needs data objectives that are {', '.join(RACEABLE_METRICS)}; not {other[0]}"
        )
    return float(expr.value)
