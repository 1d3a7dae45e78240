"""The typed AST of a .stitch file; every node carries the span it was parsed from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# The rule sub-language (patterns, guards, compute) is written directly as the rule engine's own objects.
from stitchc.passes.rules.expr import Expr as CExpr
from stitchc.passes.rules.statements import Assign, Forward, OpStatement


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Number:
    value: float | int
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Ref:
    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call:
    func: Ref
    args: tuple[Expr, ...]
    kwargs: dict[str, tuple[Span, Expr]]
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Objective:
    direction: str
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Arrow:
    """`a.conv2 -> b.conv3`: a directed stitch point pair."""

    source: Ref
    target: Ref
    span: Span


@dataclass(frozen=True)
class TensorTypeExpr:
    """`f32[N, 1, 8, 8]`: an element type and dims (ints or symbols)."""

    dtype: str
    dims: tuple[int | str, ...]
    span: Span


Expr = Union[Number, String, Ref, Call, ListExpr, Objective, Arrow, TensorTypeExpr]


@dataclass(frozen=True)
class Entry:
    key: str
    value: Expr
    span: Span  # the key's span


@dataclass(frozen=True)
class Header:
    version: int
    span: Span


@dataclass(frozen=True)
class DataDecl:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class MetricDecl:
    """`metric NAME = python("file.py:function")`: a user metric over (scores, labels)."""

    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class ModelDecl:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class StitchDecl:
    name: str
    left: Ref
    right: Ref
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True)
class SearchDecl:
    name: str
    over: tuple[Ref, ...]  # stitch groups searched together (more than one: several parents)
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True)
class ExportDecl:
    what: Ref
    path: String
    format: Ref
    span: Span


@dataclass(frozen=True)
class RuleDecl:
    """A `rule` block: its statements are rule-engine objects; grammar/rule_compiler.py makes it a Rule."""

    name: str
    match: tuple[OpStatement, ...]
    where: tuple[CExpr, ...]
    compute: tuple[Assign, ...]
    rewrite: tuple[OpStatement | Forward, ...]
    ensures: Call | None
    strict: bool  # `match strict { ... }`
    span: Span


@dataclass(frozen=True)
class Param:
    """`factor: int in 1..3 = 2` in a morphism or mutation signature."""

    name: str
    type: str
    type_span: Span
    range: tuple[Number, Number] | None
    default: Expr | None
    span: Span


@dataclass(frozen=True)
class TransformDecl:
    kind: str  # "morphism" | "mutation"
    name: str
    params: tuple[Param, ...]
    impl: Ref
    span: Span


@dataclass(frozen=True)
class PipelineDecl:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class ImportDecl:
    path: String
    span: Span


@dataclass(frozen=True)
class UseDecl:
    path: String
    span: Span


Statement = Union[
    DataDecl,
    MetricDecl,
    ModelDecl,
    StitchDecl,
    SearchDecl,
    ExportDecl,
    RuleDecl,
    TransformDecl,
    PipelineDecl,
    ImportDecl,
    UseDecl,
]


@dataclass(frozen=True)
class Module:
    file: str
    source: str
    header: Header
    statements: tuple[Statement, ...] = field(default=())
