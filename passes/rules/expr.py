"""Guard and compute expressions of a rule: literals, matched values and attributes, compute results,
operators and calls of the fixed function table.

These objects are the rule engine's own: the .stitch compiler builds them from a `rule` block and a
Python user builds the same ones (operators are overloaded: `var.c / var.s`, `fn.rank(var.s) <= 1`,
`a & b`, `~a`; equality is structural, so `==` in an expression is written `a.eq(b)`). `span` is where
the object was written (the compiler's source location, None when built in Python); it takes no part
in equality, so a rule compiled from text equals the same rule built in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "**": 8}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _binary(op: str, reverse: bool = False):
    """The method `self <op> other` (`other <op> self` when reversed) building a BinOp."""

    def build(self, other) -> BinOp:
        return BinOp(op, lift(other), self) if reverse else BinOp(op, self, lift(other))

    return build


class Operators:
    """Python operators that build expressions (mixed into every expression class)."""

    __add__, __radd__ = _binary("+"), _binary("+", True)
    __sub__, __rsub__ = _binary("-"), _binary("-", True)
    __mul__, __rmul__ = _binary("*"), _binary("*", True)
    __truediv__, __rtruediv__ = _binary("/"), _binary("/", True)
    __pow__, __rpow__ = _binary("**"), _binary("**", True)
    __and__, __or__ = _binary("and"), _binary("or")
    __lt__, __le__, __gt__, __ge__ = _binary("<"), _binary("<="), _binary(">"), _binary(">=")
    eq, ne = _binary("=="), _binary("!=")  # `==` and `!=` stay structural equality

    def __neg__(self):
        return UnaryOp("-", self)

    def __invert__(self):
        return UnaryOp("not", self)


def span_field():
    """Where an object was written: no part of equality or repr."""
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Const(Operators):
    """A literal: a number, a string or a boolean."""

    value: float | int | str | bool
    span: object = span_field()


@dataclass(frozen=True)
class Named(Operators):
    """An expression that is a name (equal only to one of the same class)."""

    name: str
    span: object = span_field()


class Var(Named):
    """`%x`: an IR value bound by the match (or defined in a rewrite)."""


class AttrVar(Named):
    """`$eps`: an attribute value bound by the match."""


class Name(Named):
    """A compute result, or a named constant such as `true` or `pi`."""


@dataclass(frozen=True)
class BinOp(Operators):
    op: str  # + - * / ** == != < <= > >= and or
    left: Expr
    right: Expr
    span: object = span_field()


@dataclass(frozen=True)
class UnaryOp(Operators):
    op: str  # - not
    operand: Expr
    span: object = span_field()


@dataclass(frozen=True)
class Call(Operators):
    """`sqrt(x)`: a function of the fixed table (see compute.FUNCTIONS and VALUE_FUNCTIONS)."""

    name: str
    args: tuple[Expr, ...]
    span: object = span_field()


@dataclass(frozen=True)
class ArrayList(Operators):
    """`[a, b, ...]`: an array of the items."""

    items: tuple[Expr, ...]
    span: object = span_field()


Expr = Const | Var | AttrVar | Name | BinOp | UnaryOp | Call | ArrayList


def lift(value) -> Expr:
    """An expression for a Python value: expressions as they are, numbers and strings as Const, lists as arrays."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, (list, tuple)):
        return ArrayList(tuple(lift(item) for item in value))
    if isinstance(value, (bool, int, float, str)):
        return Const(value)
    raise TypeError(f"cannot use {type(value).__name__} {value!r} in a rule expression")


def render(expr: Expr) -> str:
    """The expression in .stitch notation, parenthesised where precedence needs it."""
    if isinstance(expr, Const):
        return f'"{expr.value}"' if isinstance(expr.value, str) else str(expr.value).lower()
    if isinstance(expr, Var):
        return f"%{expr.name}"
    if isinstance(expr, AttrVar):
        return f"${expr.name}"
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, ArrayList):
        return "[" + ", ".join(render(item) for item in expr.items) + "]"
    if isinstance(expr, Call):
        return f"{expr.name}(" + ", ".join(render(arg) for arg in expr.args) + ")"
    if isinstance(expr, UnaryOp):
        level = _level(expr)
        return ("not " if expr.op == "not" else "-") + _operand(expr.operand, level, tight=True)
    level = _level(expr)
    left_tight = expr.op == "**" or expr.op in COMPARISONS  # ** groups to the right; comparisons do not chain
    right_tight = expr.op != "**"
    return f"{_operand(expr.left, level, left_tight)} {expr.op} {_operand(expr.right, level, right_tight)}"


def _level(expr: Expr) -> int:
    if isinstance(expr, UnaryOp):
        return PRECEDENCE["not" if expr.op == "not" else "neg"]
    if isinstance(expr, BinOp):
        return PRECEDENCE["cmp" if expr.op in COMPARISONS else expr.op]
    return 99


def _operand(expr: Expr, level: int, tight: bool) -> str:
    inner = _level(expr)
    text = render(expr)
    return f"({text})" if inner < level or (tight and inner == level) else text
