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
class PointPair:
    """An explicit, directed stitch `source.path -> target.path`: features of one model replace the other's."""

    source: str  # model name
    source_path: str  # module path or node name inside that model, e.g. "layer1.0.conv1"
    target: str
    target_path: str
    span: Span


@dataclass(frozen=True)
class RefineSpec:
    """Optional SGD refinement of the fitted stitches (only stitch parameters train)."""

    loss: str  # "feature" (MSE to the replaced feature) | "task" (cross-entropy of the candidate)
    epochs: int
    lr: float


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
    points: tuple[PointPair, ...] | None = None  # None: automatic matching
    similarity: str = "none"  # "none" | "cka": prefer representationally similar pairs in automatic matching
    resize: bool = False  # allow pairs whose spatial sizes differ (the stitch pools or resizes)
    refine: RefineSpec | None = None


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
