"""The checked program: names resolved, values typed and in range, paths absolute."""
from __future__ import annotations

from dataclasses import dataclass, field

from .ast import Span


@dataclass(frozen=True)
class DataSpec:
    name: str
    source: str
    split: tuple[float, float, float]
    seed: int
    span: Span


@dataclass(frozen=True)
class ModelSpec:
    name: str
    format: str
    path: str
    span: Span  # the path string


@dataclass(frozen=True)
class StitchSpec:
    name: str
    left: str
    right: str
    init: str
    data: str
    split: str
    samples: int
    span: Span


@dataclass(frozen=True)
class ObjectiveSpec:
    direction: str  # "maximize" | "minimize"
    metric: str  # "accuracy" | "macs" | "params"
    data: str | None = None
    split: str | None = None


@dataclass(frozen=True)
class SearchSpec:
    name: str
    over: str
    population: int
    generations: int
    seed: int
    objectives: tuple[ObjectiveSpec, ...]
    span: Span


@dataclass(frozen=True)
class ExportSpec:
    search: str
    path: str
    format: str
    span: Span


@dataclass
class Program:
    file: str
    source: str
    data: dict[str, DataSpec] = field(default_factory=dict)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    stitches: dict[str, StitchSpec] = field(default_factory=dict)
    searches: dict[str, SearchSpec] = field(default_factory=dict)
    exports: list[ExportSpec] = field(default_factory=list)
