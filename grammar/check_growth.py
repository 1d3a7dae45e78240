"""Check `algorithm = grow(patience = P, min_gain = G)`: a growth search needs program genes to grow with."""

from __future__ import annotations

from . import ast
from .program import GenomeProgramSpec, GrowthSpec


def check_growth(checker, call: ast.Call, genome: GenomeProgramSpec | None, budget: ast.Expr | None) -> GrowthSpec:
    checker.only_kwargs(call, ("patience", "min_gain", "seed"))
    if genome is None:
        raise checker.error(call.span, "grow() adds program steps: give the search `genome = program(...)`")
    if budget is not None:
        raise checker.error(
            budget.span, "grow() stops by its own policy (patience, min_gain, the program's length): remove `budget`"
        )
    min_gain = 0.0
    if "min_gain" in call.kwargs:
        value = call.kwargs["min_gain"][1]
        if not isinstance(value, ast.Number) or not 0 <= value.value <= 1:
            raise checker.error(value.span, "'min_gain' must be a number in [0, 1]")
        min_gain = float(value.value)
    return GrowthSpec(checker.int_kwarg(call, "patience", 1, minimum=1), min_gain)
