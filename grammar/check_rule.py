"""Check a `rule` block: known ops, one connected pattern root, bound names everywhere, a valid ensures.

Every name in `where`, `compute` and `rewrite` must be bound by the match (`%v`, `$a`) or by an earlier
compute or rewrite statement; an unbound name is a located error here, never a failure at run time.
"""

from __future__ import annotations

import difflib

from stitchc.passes.rules.compute import CONSTANTS, FUNCTIONS, SPECIAL_FUNCTIONS, VALUE_FUNCTIONS
from stitchc.passes.rules.op_classes import OP_CLASSES, expand, is_class, onnx_ops

from . import ast
from .program import RuleSpec


class RuleChecker:
    def __init__(self, checker, decl: ast.RuleDecl):
        self.checker, self.decl = checker, decl
        self.values: set[str] = set()  # %names bound by the match
        self.outputs: dict[str, int] = {}  # %name -> match statement defining it
        self.attrs: set[str] = set()
        self.names: set[str] = set()  # compute results
        self.ok = True

    def error(self, span: ast.Span, message: str, hint: str | None = None) -> None:
        self.checker.error(span, message, hint)
        self.ok = False

    def unbound(self, span: ast.Span, kind: str, shown: str, name: str, known) -> None:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        self.error(
            span,
            f"unbound {kind} '{shown}' in rule '{self.decl.name}'",
            f"did you mean '{close[0]}'?" if close else None,
        )

    # ----- the whole rule ------------------------------------------------------------------------
    def check(self) -> RuleSpec | None:
        self.match()
        root = self.root()
        for guard in self.decl.where:
            self.expr(guard)
        for assign in self.decl.compute:
            self.expr(assign.value)
            if assign.name in self.names or assign.name in CONSTANTS:
                self.error(assign.span, f"'{assign.name}' is already defined")
            self.names.add(assign.name)
        rest_sources = self.rewrite(root)
        tol = self.ensures()
        if not self.ok or root is None:
            return None
        return RuleSpec(self.decl.name, self.checker.module.file, self.decl, root, rest_sources, tol, self.decl.span)

    # ----- match ------------------------------------------------------------------------------------
    def match(self) -> None:
        for index, stmt in enumerate(self.decl.match):
            self.ops(stmt, allow_classes=True)
            for var in stmt.outputs:
                if var.name in self.outputs:
                    self.error(var.span, f"'%{var.name}' is defined twice in the match")
                self.outputs[var.name] = index
            for operand in stmt.operands:
                if not operand.is_value:
                    self.error(operand.span, f"a match operand is a %value, not '{operand.name}'")
            for item in stmt.attrs:
                if isinstance(item.value, ast.AttrVar):
                    self.attrs.add(item.value.name)
                elif not _literal(item.value):
                    self.error(item.value.span, f"attribute '{item.name}' in a match is a $binding or a literal")
        self.values = set(self.outputs) | {o.name for s in self.decl.match for o in s.operands if o.is_value}

    def ops(self, stmt: ast.OpStatement, allow_classes: bool) -> None:
        for op in stmt.ops:
            if is_class(op):
                if not allow_classes:
                    self.error(stmt.op_span, f"a rewrite creates one concrete op, not the op class '{op}'")
                elif op not in OP_CLASSES:
                    close = difflib.get_close_matches(op, OP_CLASSES, n=1)
                    self.error(
                        stmt.op_span,
                        f"unknown op class '{op}'",
                        f"did you mean '{close[0]}'?" if close else f"op classes: {', '.join(sorted(OP_CLASSES))}",
                    )
            elif op not in onnx_ops():
                close = difflib.get_close_matches(op, onnx_ops(), n=1)
                self.error(stmt.op_span, f"unknown ONNX op '{op}'", f"did you mean '{close[0]}'?" if close else None)
        if not allow_classes and len(stmt.ops) > 1:
            self.error(stmt.op_span, "a rewrite creates one op, not alternatives")

    def root(self) -> int | None:
        used = {o.name for s in self.decl.match for o in s.operands}
        roots = [i for i, s in enumerate(self.decl.match) if not any(v.name in used for v in s.outputs)]
        if len(roots) != 1:
            found = ", ".join(f"%{self.decl.match[i].outputs[0].name}" for i in roots) or "none (a cycle)"
            self.error(
                self.decl.span,
                f"the match of rule '{self.decl.name}' needs exactly one root "
                f"(a statement whose result the pattern does not use); found {found}",
            )
            return None
        reached, stack = set(), [roots[0]]
        while stack:
            index = stack.pop()
            if index not in reached:
                reached.add(index)
                stack += [self.outputs[o.name] for o in self.decl.match[index].operands if o.name in self.outputs]
        for index, stmt in enumerate(self.decl.match):
            if index not in reached:
                self.error(
                    stmt.span,
                    "this match statement is not connected to the pattern root",
                    "matching starts at the root and walks its inputs",
                )
        return roots[0]

    # ----- rewrite ----------------------------------------------------------------------------------
    def rewrite(self, root: int | None) -> dict[int, int]:
        defined: set[str] = set()
        rest_sources: dict[int, int] = {}
        for index, stmt in enumerate(self.decl.rewrite):
            if isinstance(stmt, ast.Forward):
                self.value_ref(stmt.source.name, stmt.source.span, defined)
                if len(stmt.outputs) != 1:
                    self.error(stmt.span, "a forward `%a = %b` defines one value")
            else:
                self.ops(stmt, allow_classes=False)
                for operand in stmt.operands:
                    if operand.is_value:
                        self.value_ref(operand.name, operand.span, defined)
                    elif operand.name not in self.names:
                        self.unbound(operand.span, "name", operand.name, operand.name, self.names)
                for item in stmt.attrs:
                    self.expr(item.value)
                if stmt.rest:
                    rest_sources[index] = self.rest_source(stmt)
            for var in stmt.outputs:
                if var.name in defined:
                    self.error(var.span, f"'%{var.name}' is defined twice in the rewrite")
                elif var.name in self.values and var.name not in self.outputs:
                    self.error(var.span, f"'%{var.name}' is an input of the match and cannot be redefined")
                defined.add(var.name)
        if root is not None:
            for var in self.decl.match[root].outputs:
                if var.name not in defined:
                    self.error(
                        self.decl.span,
                        f"the rewrite of rule '{self.decl.name}' must define %{var.name} "
                        f"(the result of the match root)",
                    )
        return rest_sources

    def value_ref(self, name: str, span: ast.Span, defined: set[str]) -> None:
        if name not in self.values and name not in defined:
            self.unbound(span, "value", f"%{name}", name, self.values | defined)

    def rest_source(self, stmt: ast.OpStatement) -> int:
        sources = [i for i, m in enumerate(self.decl.match) if stmt.ops[0] in expand(m.ops)]
        if len(sources) != 1:
            why = "no" if not sources else "more than one"
            self.error(
                stmt.op_span,
                f"`...` copies the attributes of the matched {stmt.ops[0]}, but the match has {why} {stmt.ops[0]}",
            )
            return -1
        return sources[0]

    # ----- expressions and ensures ---------------------------------------------------------------
    def expr(self, expr: ast.CExpr) -> None:
        if isinstance(expr, ast.Var):
            if expr.name not in self.values:
                self.unbound(expr.span, "value", f"%{expr.name}", expr.name, self.values)
        elif isinstance(expr, ast.AttrVar):
            if expr.name not in self.attrs:
                self.unbound(expr.span, "attribute", f"${expr.name}", expr.name, self.attrs)
        elif isinstance(expr, ast.Name):
            if expr.name not in self.names and expr.name not in CONSTANTS:
                self.unbound(expr.span, "name", expr.name, expr.name, self.names)
        elif isinstance(expr, ast.BinOp):
            self.expr(expr.left)
            self.expr(expr.right)
        elif isinstance(expr, ast.UnaryOp):
            self.expr(expr.operand)
        elif isinstance(expr, ast.ArrayList):
            for item in expr.items:
                self.expr(item)
        elif isinstance(expr, ast.FuncCall):
            self.call(expr)

    def call(self, call: ast.FuncCall) -> None:
        table = {**{k: v[:2] for k, v in FUNCTIONS.items()}, **VALUE_FUNCTIONS, **SPECIAL_FUNCTIONS}
        if call.name not in table:
            close = difflib.get_close_matches(call.name, table, n=1)
            self.error(call.span, f"unknown function '{call.name}'", f"did you mean '{close[0]}'?" if close else None)
            return
        low, high = table[call.name]
        if not low <= len(call.args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            self.error(call.span, f"{call.name}() takes {count} argument{'s' * (high != 1)}, got {len(call.args)}")
        for arg in call.args:
            if call.name in VALUE_FUNCTIONS and not isinstance(arg, ast.Var):
                self.error(arg.span, f"{call.name}() takes %values")
            self.expr(arg)

    def ensures(self) -> float | None:
        call = self.decl.ensures
        if call is None:
            return None
        if call.func.dotted != "allclose":
            self.error(call.func.span, f"unknown check '{call.func.dotted}'", "write `ensures allclose(tol = 1e-5);`")
            return None
        for name, (span, _) in call.kwargs.items():
            if name != "tol":
                self.error(span, f"unknown argument of allclose() '{name}'", "allclose takes tol")
        if call.args:
            self.error(call.args[0].span, "allclose() takes only `tol = NUMBER`")
        value = call.kwargs.get("tol", (None, ast.Number(1e-5, call.span)))[1]
        if not isinstance(value, ast.Number) or not value.value > 0:
            self.error(value.span, "'tol' must be a positive number")
            return None
        return float(value.value)


def _literal(expr: ast.CExpr) -> bool:
    if isinstance(expr, ast.ArrayList):
        return all(_literal(i) for i in expr.items)
    if isinstance(expr, ast.UnaryOp) and expr.op == "-":
        return _literal(expr.operand)
    return isinstance(expr, (ast.Number, ast.String)) or (isinstance(expr, ast.Name) and expr.name in CONSTANTS)


def check_rule(checker, decl: ast.RuleDecl) -> RuleSpec | None:
    """Checks one rule, recording diagnostics on `checker`; None when the rule has errors."""
    return RuleChecker(checker, decl).check()
