"""Check `morphism` and `mutation` declarations: typed parameters, ranges, defaults, a known implementation."""

from __future__ import annotations

from stitchc.ir.suggest import did_you_mean
from stitchc.passes.registry import names
from stitchc.passes.rules.op_classes import OP_CLASSES, onnx_ops

from . import ast
from .program import ParamSpec, TransformSpec

SCALARS = ("int", "float", "bool")


def check_transform(checker, decl: ast.TransformDecl) -> TransformSpec | None:
    before = len(checker.diagnostics)
    known = names(decl.kind)
    if decl.impl.dotted not in known and not checker.passes_unverifiable():
        checker.error(
            decl.impl.span,
            f"unknown {decl.kind} implementation '{decl.impl.dotted}'",
            did_you_mean(decl.impl.dotted, known, f"known: {', '.join(known)}"),
        )
    params, seen = [], set()
    for param in decl.params:
        if param.name in seen:
            checker.error(param.span, f"parameter '{param.name}' is declared twice")
        seen.add(param.name)
        spec = _param(checker, param)
        if spec is not None:
            params.append(spec)
    if len(checker.diagnostics) > before:
        return None
    return TransformSpec(decl.kind, decl.name, decl.impl.dotted, tuple(params), decl.span)


def _param(checker, param: ast.Param) -> ParamSpec | None:
    kind = param.type
    if kind not in SCALARS and kind not in onnx_ops() and kind not in OP_CLASSES:
        checker.error(
            param.type_span,
            f"unknown parameter type '{kind}'",
            did_you_mean(kind, [*SCALARS, *OP_CLASSES, *onnx_ops()], "int, float, bool, or an op name such as Conv"),
        )
        return None
    low = high = None
    if param.range is not None:
        if kind not in ("int", "float"):
            checker.error(param.range[0].span, f"a range needs an int or float parameter, not {kind}")
            return None
        low, high = (n.value for n in param.range)
        if kind == "int" and not all(isinstance(v, int) for v in (low, high)):
            checker.error(param.range[0].span, f"the range of int parameter '{param.name}' needs integer bounds")
            return None
        if low > high:
            checker.error(param.range[0].span, f"empty range {low}..{high}")
            return None
    default = _default(checker, param, kind, low, high) if param.default is not None else None
    return ParamSpec(param.name, kind, low, high, default)


def _default(checker, param: ast.Param, kind: str, low, high):
    value = param.default
    if kind == "bool":
        if isinstance(value, ast.Ref) and value.dotted in ("true", "false"):
            return value.dotted == "true"
        checker.error(value.span, f"the default of '{param.name}' must be true or false")
        return None
    if kind not in ("int", "float"):
        checker.error(value.span, f"a {kind} parameter has no default (it names a node at run time)")
        return None
    if not isinstance(value, ast.Number) or (kind == "int" and not isinstance(value.value, int)):
        checker.error(
            value.span, f"the default of '{param.name}' must be {'an integer' if kind == 'int' else 'a number'}"
        )
        return None
    if low is not None and not low <= value.value <= high:
        checker.error(value.span, f"the default {value.value} of '{param.name}' is outside {low}..{high}")
        return None
    return value.value
