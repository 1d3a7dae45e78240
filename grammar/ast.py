"""The typed AST of a .stitch file; every node carries the span it was parsed from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


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
    args: tuple["Expr", ...]
    kwargs: dict[str, tuple[Span, "Expr"]]
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Objective:
    direction: str
    expr: "Expr"
    span: Span


Expr = Union[Number, String, Ref, Call, ListExpr, Objective]


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
    over: Ref
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True)
class ExportDecl:
    what: Ref
    path: String
    format: Ref
    span: Span


Statement = Union[DataDecl, ModelDecl, StitchDecl, SearchDecl, ExportDecl]


@dataclass(frozen=True)
class Module:
    file: str
    source: str
    header: Header
    statements: tuple[Statement, ...] = field(default=())
