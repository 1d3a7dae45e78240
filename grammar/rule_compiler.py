"""Compile a parsed `rule` block into the rule engine's Rule; its problems become located diagnostics.

The block's statements already are rule-engine objects (the parser builds them); this adds what only the
language has, the `ensures allclose(tol = T)` clause, and reports every problem the engine's validation
finds (unbound names, unknown ops, no single root...) at the span it names.
"""

from __future__ import annotations

from stitchc.passes.rules.rule import Rule
from stitchc.passes.rules.validate import analyse

from . import ast


def compile_rule(checker, decl: ast.RuleDecl) -> Rule | None:
    """The Rule of `decl`, or None after recording its diagnostics on `checker`."""
    errors: list[tuple[ast.Span, str, str | None]] = []
    tol = _ensures(decl.ensures, errors)
    rule = Rule(decl.name, decl.match, decl.rewrite, decl.where, decl.compute, tol, decl.strict, decl.span)
    problems = analyse(rule).problems
    for problem in problems:
        checker.error(problem.span, problem.message, problem.hint)
    for span, message, hint in errors:
        checker.error(span, message, hint)
    return None if problems or errors else rule


def _ensures(call: ast.Call | None, errors: list) -> float | None:
    """The tolerance of `ensures allclose(tol = T)` (1e-5 by default); None when absent or invalid."""
    if call is None:
        return None
    if call.func.dotted != "allclose":
        errors.append((call.func.span, f"unknown check '{call.func.dotted}'", "write `ensures allclose(tol = 1e-5);`"))
        return None
    for name, (span, _) in call.kwargs.items():
        if name != "tol":
            errors.append((span, f"unknown argument of allclose() '{name}'", "allclose takes tol"))
    if call.args:
        errors.append((call.args[0].span, "allclose() takes only `tol = NUMBER`", None))
    value = call.kwargs.get("tol", (None, ast.Number(1e-5, call.span)))[1]
    if not isinstance(value, ast.Number) or not value.value > 0:
        errors.append((value.span, "'tol' must be a positive number", None))
        return None
    return float(value.value)
