"""The compute and guard expression language: arithmetic, comparisons and a fixed table of numpy functions.

Expressions are the objects of expr.py, never Python text; the only callables are the ones in FUNCTIONS
and VALUE_FUNCTIONS. `%v` evaluates to the constant array of a matched value, `$a` to a matched attribute,
a bare name to an earlier compute result. Anything that cannot be evaluated raises Refused, which makes
the match fail with that reason.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stitchc.ir import Value

from .expr import ArrayList, AttrVar, BinOp, Call, Const, Expr, Name, UnaryOp, Var, render


class Refused(Exception):
    """A match cannot be rewritten; the message is the recorded reason."""


def _reshape(x, shape):
    return np.reshape(x, [int(d) for d in np.asarray(shape).ravel()])


def _transpose(x, perm=None):
    return np.transpose(x, None if perm is None else [int(p) for p in np.asarray(perm).ravel()])


def _reduce(fn):
    return lambda x, axis=None: fn(x, axis=None if axis is None else int(axis))


# name -> (min args, max args, implementation)
FUNCTIONS: dict[str, tuple[int, int, Callable]] = {
    "sqrt": (1, 1, np.sqrt),
    "exp": (1, 1, np.exp),
    "log": (1, 1, np.log),
    "abs": (1, 1, np.abs),
    "reshape": (2, 2, _reshape),
    "transpose": (1, 2, _transpose),
    "sum": (1, 2, _reduce(np.sum)),
    "mean": (1, 2, _reduce(np.mean)),
    "maximum": (2, 2, np.maximum),
    "minimum": (2, 2, np.minimum),
    "where": (3, 3, np.where),
    "zeros_like": (1, 1, np.zeros_like),
    "ones_like": (1, 1, np.ones_like),
    "concat": (2, 2, lambda xs, axis: np.concatenate(xs, axis=int(axis))),
    "expand_dims": (2, 2, lambda x, axis: np.expand_dims(x, int(axis))),
    "size": (1, 1, np.size),
    "len": (1, 1, len),
}
# functions of IR values rather than arrays: their arguments must be `%v`
VALUE_FUNCTIONS: dict[str, tuple[int, int]] = {
    "is_const": (1, 64),
    "single_use": (1, 64),
    "present": (1, 1),
    "rank": (1, 1),
    "shape": (1, 1),
}
# `default(%b, 0)`: the first argument may be an absent optional value
SPECIAL_FUNCTIONS: dict[str, tuple[int, int]] = {"default": (2, 2)}
CONSTANTS = {"true": True, "false": False, "pi": math.pi}
BINARY: dict[str, Callable] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "==": lambda a, b: bool(np.all(np.asarray(a) == np.asarray(b))),
    "!=": lambda a, b: not bool(np.all(np.asarray(a) == np.asarray(b))),
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class Env:
    """What expressions see: matched values and attributes, compute results so far."""

    values: dict[str, Value | None]
    attrs: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)

    def array(self, name: str):
        value = self.values.get(name)
        if value is None:
            return None
        if not value.is_const:
            raise Refused(f"%{name} is not a constant")
        return value.const


def evaluate(expr: Expr, env: Env) -> Any:
    """The value of `expr`; raises Refused (with the expression and the cause) when it cannot be computed."""
    try:
        return _eval(expr, env)
    except Refused:
        raise
    except (ValueError, TypeError, ArithmeticError, IndexError) as error:
        raise Refused(f"`{render(expr)}` failed: {error}") from None


def _eval(expr: Expr, env: Env) -> Any:
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Var):
        return _present(env.array(expr.name), expr.name)
    if isinstance(expr, AttrVar):
        return env.attrs[expr.name]
    if isinstance(expr, Name):
        return env.results[expr.name] if expr.name in env.results else CONSTANTS[expr.name]
    if isinstance(expr, ArrayList):
        return np.array([_eval(item, env) for item in expr.items])
    if isinstance(expr, UnaryOp):
        operand = _eval(expr.operand, env)
        return (not operand) if expr.op == "not" else -operand
    if isinstance(expr, BinOp):
        return _binary(expr, env)
    return _call(expr, env)


def _binary(expr: BinOp, env: Env) -> Any:
    if expr.op == "and":
        return bool(_eval(expr.left, env)) and bool(_eval(expr.right, env))
    if expr.op == "or":
        return bool(_eval(expr.left, env)) or bool(_eval(expr.right, env))
    return BINARY[expr.op](_eval(expr.left, env), _eval(expr.right, env))


def _call(expr: Call, env: Env) -> Any:
    if expr.name == "default":
        first = expr.args[0]
        if isinstance(first, Var) and env.values.get(first.name) is None:
            return _eval(expr.args[1], env)
        return _eval(first, env)
    if expr.name in VALUE_FUNCTIONS:
        return _value_function(expr.name, [env.values.get(a.name) for a in expr.args])
    return FUNCTIONS[expr.name][2](*(_eval(a, env) for a in expr.args))


def _value_function(name: str, values: list[Value | None]) -> Any:
    if name == "present":
        return values[0] is not None
    if name == "is_const":
        return all(v is None or v.is_const for v in values)
    if name == "single_use":
        return all(v is not None and len(v.uses) == 1 for v in values)
    kind = values[0].type if values[0] is not None else None
    if kind is None or kind.shape is None:
        raise Refused(f"{name}() of a value of unknown shape")
    return len(kind.shape) if name == "rank" else np.array([d if isinstance(d, int) else -1 for d in kind.shape])


def _present(array, name: str):
    if array is None:
        raise Refused(f"%{name} is absent (use default(%{name}, ...))")
    return array
