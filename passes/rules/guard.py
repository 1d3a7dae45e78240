"""`where` guards: evaluate one and, when it is false, say which guard and which value made it so."""

from __future__ import annotations

import numpy as np

from .compute import Env, evaluate
from .expr import COMPARISONS, BinOp, Call, Const, Expr, UnaryOp, Var, render


def failed_guard(guard: Expr, env: Env) -> str | None:
    """None when the guard holds, else the reason: "where `rank(%s) <= 1` is false: rank(%s) = 2".

    Raises Refused when the guard cannot be evaluated (the reason names the expression)."""
    if evaluate(guard, env):
        return None
    return f"where `{render(guard)}` is false: {_why(guard, env)}"


def _why(expr: Expr, env: Env) -> str:
    if isinstance(expr, BinOp) and expr.op == "and":
        return _why(expr.left if not evaluate(expr.left, env) else expr.right, env)
    if isinstance(expr, BinOp) and expr.op in COMPARISONS:
        sides = [side for side in (expr.left, expr.right) if not isinstance(side, Const)]
        return ", ".join(f"{render(side)} = {show(evaluate(side, env))}" for side in sides)
    if isinstance(expr, Call) and expr.name in ("is_const", "single_use", "present"):
        return _value_why(expr, env)
    if isinstance(expr, UnaryOp) and expr.op == "not":
        return f"`{render(expr.operand)}` is true"
    return f"it is {show(evaluate(expr, env))}"


def _value_why(call: Call, env: Env) -> str:
    for arg in call.args:
        value = env.values.get(arg.name) if isinstance(arg, Var) else None
        if call.name == "present" and value is None:
            return f"{render(arg)} is absent"
        if call.name == "is_const" and value is not None and not value.is_const:
            return f"{render(arg)} is not a constant"
        if call.name == "single_use" and (value is None or len(value.uses) != 1):
            return f"{render(arg)} has {0 if value is None else len(value.uses)} uses"
    return "it is false"


def show(value) -> str:
    """A short text for a guard operand's value (arrays abbreviated)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=8, edgeitems=3, precision=4)
    if isinstance(value, (np.generic, float)):
        return f"{float(value):.6g}" if not isinstance(value, np.bool_) else str(bool(value)).lower()
    return str(value).lower() if isinstance(value, bool) else str(value)
