"""Check the `train` setting of a search: `train = DATA.SPLIT(steps = N, lr = X, params = all | new | stitches,
batch = B, seed = S)`: every candidate is fine-tuned on that split before it is evaluated."""

from __future__ import annotations

from . import ast
from .program import TrainSpec

PARAMS = ("all", "new", "stitches")
NIMBLE = (
    "Gemm",
    "Conv",
)  # the layer op whose width a Nimble controller learns  # every weight; what the program's steps added or changed; the stitches


def check_train(checker, expr: ast.Expr) -> TrainSpec:
    call = checker.call(expr, None)
    data, split = checker.data_split(call.func)
    checker.only_kwargs(call, ("steps", "lr", "params", "batch", "seed", "nimble"))
    if call.args:
        raise checker.error(
            call.args[0].span, f"{call.func.dotted}() takes keyword arguments steps, lr, params, batch, seed, nimble"
        )
    params = checker.keyword(call.kwargs["params"][1], PARAMS, "params") if "params" in call.kwargs else "all"
    for name in ("params", "batch"):
        if "nimble" in call.kwargs and name in call.kwargs:
            raise checker.error(call.kwargs[name][0], f"nimble trains every weight on full batches: drop '{name}'")
    return TrainSpec(
        data,
        split,
        checker.int_kwarg(call, "steps", 100, minimum=1),
        _learning_rate(checker, call),
        params,
        checker.int_kwarg(call, "batch", 64, minimum=1),
        checker.int_kwarg(call, "seed", 0, minimum=0),
        expr.span,
        checker.keyword(call.kwargs["nimble"][1], NIMBLE, "nimble layer") if "nimble" in call.kwargs else None,
    )


def _learning_rate(checker, call: ast.Call) -> float:
    if "lr" not in call.kwargs:
        return 1e-3
    value = call.kwargs["lr"][1]
    if not isinstance(value, ast.Number) or not 0 < value.value <= 10:
        raise checker.error(value.span, "'lr' must be a number in (0, 10]")
    return float(value.value)
