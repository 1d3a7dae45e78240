"""Check a search's `budget = N`: the number of distinct candidates the search evaluates.

Random search draws exactly its budget; `random(samples = N)` is the same budget said in the call, so a search
may give one or the other, not both. Returns the budget (None: the generations bound the search).
"""

from __future__ import annotations

from . import ast


def search_budget(checker, expr: ast.Expr | None, algorithm: ast.Call) -> int | None:
    samples = algorithm.kwargs.get("samples")
    if expr is None:
        return checker.int_kwarg(algorithm, "samples", 256, minimum=1) if algorithm.func.dotted == "random" else None
    if not isinstance(expr, ast.Number) or not isinstance(expr.value, int):
        raise checker.error(expr.span, "'budget' must be an integer (distinct candidates to evaluate)")
    if expr.value < 1:
        raise checker.error(expr.span, f"'budget' must be at least 1, got {expr.value}")
    if samples is not None:
        raise checker.error(samples[0], "random() takes `samples` or the search's `budget`, not both")
    return expr.value
