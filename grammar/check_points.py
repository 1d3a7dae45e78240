"""Check explicit stitch points against the imported parents: the node exists and the two ends fit."""

from __future__ import annotations

import functools
import os
import re

from stitchc.ir import Graph, ModelLoadError
from stitchc.stitch.plan import StitchError, StitchPlan, check_plan
from stitchc.stitch.points import PointError, resolve_point

from . import ast
from .model_loader import load_parent
from .program import ModelSpec, PointPair

_HINT = re.compile(r"^(.*) \((did you mean '[^']+'\?)\)$")


@functools.lru_cache(maxsize=16)
def _load_cached(spec: ModelSpec, versions: tuple[float, ...]) -> Graph:
    return load_parent(spec)


def load_model(checker, spec: ModelSpec) -> Graph | None:
    """The parent's graph (cached per file version), or None after recording a located diagnostic."""
    try:
        files = [spec.path] + ([spec.weights] if spec.weights else [])
        return _load_cached(spec, tuple(os.path.getmtime(f) for f in files))
    except (ModelLoadError, OSError) as error:
        message = f"cannot import model '{spec.name}': {getattr(error, 'cause', error)}"
        if not any(d.span == spec.span and d.message == message for d in checker.diagnostics):  # once per model
            checker.error(spec.span, message)
        return None


def check_points(checker, decl: ast.StitchDecl, expr: ast.ListExpr, resize: bool) -> tuple[PointPair, ...]:
    pair_names = (decl.left.dotted, decl.right.dotted)
    pairs = []
    for item in expr.items:
        if not isinstance(item, ast.Arrow):
            checker.error(item.span, "a stitch point pair is written `a.layer -> b.layer`")
            continue
        pair = _pair(checker, item, pair_names, resize)
        if pair is not None:
            pairs.append(pair)
    if not expr.items:
        checker.error(expr.span, "the list of stitch points is empty", "write `points = auto` for automatic matching")
    return tuple(pairs)


def _pair(checker, arrow: ast.Arrow, models: tuple[str, str], resize: bool) -> PointPair | None:
    ends = []
    for ref in (arrow.source, arrow.target):
        if len(ref.parts) < 2 or ref.parts[0] not in models:
            checker.error(
                ref.span,
                f"'{ref.dotted}' does not name a layer of {models[0]} or {models[1]}",
                f"write MODEL.PATH, for example {models[0]}.conv1",
            )
            return None
        ends.append((ref.parts[0], ".".join(ref.parts[1:]), ref))
    if ends[0][0] == ends[1][0]:
        checker.error(
            arrow.span,
            f"both ends of '{arrow.source.dotted} -> {arrow.target.dotted}' are in model {ends[0][0]}",
            "a stitch reads one parent and writes into the other",
        )
        return None
    points = [_resolve(checker, model, path, ref) for model, path, ref in ends]
    if None in points:
        return None
    try:
        check_plan(StitchPlan(ends[0][0], points[0], ends[1][0], points[1]), resize)
    except StitchError as error:
        checker.error(arrow.span, str(error), error.hint)
        return None
    return PointPair(ends[0][0], ends[0][1], ends[1][0], ends[1][1], arrow.span)


def _resolve(checker, model: str, path: str, ref: ast.Ref):
    spec = checker.program.models.get(model)
    if spec is not None and spec.format == "torch" and checker.no_exec:  # resolving it would run the user's class
        checker.skipped(ref.span, f"stitch point {ref.dotted}")
        return None
    graph = load_model(checker, spec) if spec is not None else None
    if graph is None:
        return None
    try:
        return resolve_point(graph, path)
    except PointError as error:
        found = _HINT.match(str(error))
        message, hint = (found.group(1), found.group(2)) if found else (str(error), None)
        checker.error(ref.span, message, hint)
        return None
