"""The statements of a rule: op statements in IR syntax (match and rewrite), forwards, compute assignments.

`%y = Conv|ConvTranspose(%x, %w, %b?) {group: 1, ...}` is an OpStatement: outputs, op alternatives,
operands, attribute items and the `...` flag. Like the expressions, they carry a `span` that takes no
part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass

from .expr import Expr, Var, span_field


@dataclass(frozen=True)
class Operand:
    """An op input: a value `%x` (optional `%b?`, matching an absent input too) or, in a rewrite, a compute
    result by name (`is_value` False)."""

    name: str
    is_value: bool = True
    optional: bool = False
    span: object = span_field()


@dataclass(frozen=True)
class AttrItem:
    """`name: value`: in a match, a literal the attribute must equal or a `$binding`; in a rewrite, any
    expression."""

    name: str
    value: Expr
    span: object = span_field()


@dataclass(frozen=True)
class OpStatement:
    """`%y = Op(...) {...}`. In a match, `ops` may hold alternatives and op classes and `rest` (`...`) says
    the unlisted attributes do not matter; in a rewrite, `ops` is one concrete op and `rest` copies the
    attributes (and unnamed trailing inputs) of the matched node of the same op."""

    outputs: tuple[Var, ...]
    ops: tuple[str, ...]
    operands: tuple[Operand, ...] = ()
    attrs: tuple[AttrItem, ...] = ()
    rest: bool = False
    span: object = span_field()
    op_span: object = span_field()


@dataclass(frozen=True)
class Forward:
    """`%z = %x` in a rewrite: the uses of %z read %x instead."""

    outputs: tuple[Var, ...]
    source: Var
    span: object = span_field()


@dataclass(frozen=True)
class Assign:
    """`name = expr;` in a compute block."""

    name: str
    value: Expr
    span: object = span_field()
