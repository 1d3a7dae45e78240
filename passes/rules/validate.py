"""Check a Rule and derive what the engine needs: the pattern root, the sources of `...` copies, the
matched nodes the rewrite keeps.

Every name in `where`, `compute` and `rewrite` must be bound by the match (`%v`, `$a`) or by an earlier
compute or rewrite statement; ops must be ONNX ops or op classes; the match must have one root and be
connected. Each violation is a Problem located at the offending object's span, so the .stitch compiler
reports it as a diagnostic and a Python-built rule raises RuleError naming it, never a failure at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

from stitchc.ir.suggest import did_you_mean

from .compute import CONSTANTS, FUNCTIONS, SPECIAL_FUNCTIONS, VALUE_FUNCTIONS
from .expr import ArrayList, AttrVar, BinOp, Call, Const, Expr, Name, UnaryOp, Var
from .op_classes import OP_CLASSES, expand, is_class, onnx_ops
from .rule import Rule
from .statements import Forward, OpStatement


@dataclass(frozen=True)
class Problem:
    span: object  # the offending object's span (the rule's when None)
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Analysis:
    root: int | None  # the match statement whose result the rewrite replaces
    rest_sources: dict[int, int]  # rewrite statement index -> match statement whose node `...` copies
    kept: frozenset[int]  # match statements whose results the rewrite reads (their nodes stay)
    problems: tuple[Problem, ...]


class RuleError(ValueError):
    """A Python-built rule is invalid; the message lists every problem."""


def analyse(rule: Rule) -> Analysis:
    """The root, `...` sources and kept statements of `rule`, and every problem found (in source order)."""
    return _Analyser(rule).run()


def checked(rule: Rule) -> Analysis:
    """The analysis of a valid rule; raises RuleError listing the problems of an invalid one."""
    analysis = analyse(rule)
    if analysis.problems:
        lines = "".join(f"\n  {p.message}" + (f" ({p.hint})" if p.hint else "") for p in analysis.problems)
        raise RuleError(f"invalid rule '{rule.name}':{lines}")
    return analysis


class _Analyser:
    def __init__(self, rule: Rule):
        self.rule = rule
        self.problems: list[Problem] = []
        self.values: set[str] = set()  # %names bound by the match
        self.outputs: dict[str, int] = {}  # %name -> match statement defining it
        self.attrs: set[str] = set()
        self.names: set[str] = set()  # compute results
        self.kept: set[int] = set()  # match statements whose results the rewrite reads

    def error(self, span, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(span if span is not None else self.rule.span, message, hint))

    def unbound(self, span, kind: str, name: str, known) -> None:
        sigil = {"value": "%", "attribute": "$"}.get(kind, "")
        hint = did_you_mean(name, known, sigil=sigil)
        self.error(span, f"unbound {kind} '{sigil}{name}' in rule '{self.rule.name}'", hint)

    def run(self) -> Analysis:
        self.match()
        root = self.root()
        for guard in self.rule.where:
            self.expr(guard)
        for assign in self.rule.compute:
            self.expr(assign.value)
            if assign.name in self.names or assign.name in CONSTANTS:
                self.error(assign.span, f"'{assign.name}' is already defined")
            self.names.add(assign.name)
        rest_sources = self.rewrite(root)
        if self.rule.tol is not None and not self.rule.tol > 0:
            self.error(None, "'tol' must be a positive number")
        return Analysis(root, rest_sources, frozenset(self.kept), tuple(self.problems))

    # ----- match ------------------------------------------------------------------------------------
    def match(self) -> None:
        if not self.rule.match:
            self.error(None, f"the match of rule '{self.rule.name}' is empty")
        for index, stmt in enumerate(self.rule.match):
            self.ops(stmt, allow_classes=True)
            for var in stmt.outputs:
                if var.name in self.outputs:
                    self.error(var.span, f"'%{var.name}' is defined twice in the match")
                self.outputs[var.name] = index
            for operand in stmt.operands:
                if not operand.is_value:
                    self.error(operand.span, f"a match operand is a %value, not '{operand.name}'")
            for item in stmt.attrs:
                if isinstance(item.value, AttrVar):
                    self.attrs.add(item.value.name)
                elif not is_literal(item.value):
                    self.error(item.value.span, f"attribute '{item.name}' in a match is a $binding or a literal")
        self.values = set(self.outputs) | {o.name for s in self.rule.match for o in s.operands if o.is_value}

    def ops(self, stmt: OpStatement, allow_classes: bool) -> None:
        for op in stmt.ops:
            if is_class(op):
                if not allow_classes:
                    self.error(stmt.op_span, f"a rewrite creates one concrete op, not the op class '{op}'")
                elif op not in OP_CLASSES:
                    hint = did_you_mean(op, OP_CLASSES, f"op classes: {', '.join(sorted(OP_CLASSES))}")
                    self.error(stmt.op_span, f"unknown op class '{op}'", hint)
            elif op not in onnx_ops():
                self.error(stmt.op_span, f"unknown ONNX op '{op}'", did_you_mean(op, onnx_ops()))
        if not allow_classes and len(stmt.ops) > 1:
            self.error(stmt.op_span, "a rewrite creates one op, not alternatives")

    def root(self) -> int | None:
        match = self.rule.match
        used = {o.name for s in match for o in s.operands}
        roots = [i for i, s in enumerate(match) if not any(v.name in used for v in s.outputs)]
        if len(roots) != 1:
            found = ", ".join(f"%{match[i].outputs[0].name}" for i in roots) or "none (a cycle)"
            self.error(
                None,
                f"the match of rule '{self.rule.name}' needs exactly one root "
                f"(a statement whose result the pattern does not use); found {found}",
            )
            return None
        reached, stack = set(), [roots[0]]
        while stack:
            index = stack.pop()
            if index not in reached:
                reached.add(index)
                stack += [self.outputs[o.name] for o in match[index].operands if o.name in self.outputs]
        for index, stmt in enumerate(match):
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
        for index, stmt in enumerate(self.rule.rewrite):
            if isinstance(stmt, Forward):
                self.value_ref(stmt.source, defined)
                if len(stmt.outputs) != 1:
                    self.error(stmt.span, "a forward `%a = %b` defines one value")
            else:
                self.op_statement(index, stmt, rest_sources, defined)
            for var in stmt.outputs:
                if var.name in defined:
                    self.error(var.span, f"'%{var.name}' is defined twice in the rewrite")
                elif var.name in self.values and var.name not in self.outputs:
                    self.error(var.span, f"'%{var.name}' is an input of the match and cannot be redefined")
                defined.add(var.name)
        if root is not None:
            for var in self.rule.match[root].outputs:
                if var.name not in defined:
                    self.error(
                        None,
                        f"the rewrite of rule '{self.rule.name}' must define %{var.name} "
                        f"(the result of the match root)",
                    )
        return rest_sources

    def op_statement(self, index: int, stmt: OpStatement, rest_sources: dict[int, int], defined: set[str]) -> None:
        self.ops(stmt, allow_classes=False)
        for operand in stmt.operands:
            if operand.is_value:
                self.value_ref(operand, defined)
            elif operand.name not in self.names:
                self.unbound(operand.span, "name", operand.name, self.names)
        for item in stmt.attrs:
            self.expr(item.value)
        if stmt.rest:
            rest_sources[index] = self.rest_source(stmt)

    def value_ref(self, read, defined: set[str]) -> None:
        """A rewrite reads `%name`: it must be bound; reading a matched result keeps that node."""
        if read.name in defined:
            return
        if read.name not in self.values:
            self.unbound(read.span, "value", read.name, self.values | defined)
        elif read.name in self.outputs:
            self.kept.add(self.outputs[read.name])

    def rest_source(self, stmt: OpStatement) -> int:
        sources = [i for i, m in enumerate(self.rule.match) if stmt.ops[0] in expand(m.ops)]
        if len(sources) != 1:
            why = "no" if not sources else "more than one"
            self.error(
                stmt.op_span,
                f"`...` copies the attributes of the matched {stmt.ops[0]}, but the match has {why} {stmt.ops[0]}",
            )
            return -1
        named = len(self.rule.match[sources[0]].operands)
        if not self.rule.strict and len(stmt.operands) > named:
            self.error(
                stmt.operands[named].span,
                f"`...` keeps the inputs of the matched {stmt.ops[0]} that the match does not name, "
                f"but the rewrite sets input {named}",
                "name that input in the match (an optional `%b?` if it may be absent), or write `match strict`",
            )
        return sources[0]

    # ----- expressions ------------------------------------------------------------------------------
    def expr(self, expr: Expr) -> None:
        if isinstance(expr, Var):
            if expr.name not in self.values:
                self.unbound(expr.span, "value", expr.name, self.values)
        elif isinstance(expr, AttrVar):
            if expr.name not in self.attrs:
                self.unbound(expr.span, "attribute", expr.name, self.attrs)
        elif isinstance(expr, Name):
            if expr.name not in self.names and expr.name not in CONSTANTS:
                self.unbound(expr.span, "name", expr.name, self.names)
        elif isinstance(expr, BinOp):
            self.expr(expr.left)
            self.expr(expr.right)
        elif isinstance(expr, UnaryOp):
            self.expr(expr.operand)
        elif isinstance(expr, ArrayList):
            for item in expr.items:
                self.expr(item)
        elif isinstance(expr, Call):
            self.call(expr)

    def call(self, call: Call) -> None:
        table = {**{k: v[:2] for k, v in FUNCTIONS.items()}, **VALUE_FUNCTIONS, **SPECIAL_FUNCTIONS}
        if call.name not in table:
            self.error(call.span, f"unknown function '{call.name}'", did_you_mean(call.name, table))
            return
        low, high = table[call.name]
        if not low <= len(call.args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            self.error(call.span, f"{call.name}() takes {count} argument{'s' * (high != 1)}, got {len(call.args)}")
        for arg in call.args:
            if call.name in VALUE_FUNCTIONS and not isinstance(arg, Var):
                self.error(arg.span, f"{call.name}() takes %values")
            self.expr(arg)


def is_literal(expr: Expr) -> bool:
    """A constant expression: numbers, strings, `true`/`false`/`pi`, negations and lists of them."""
    if isinstance(expr, ArrayList):
        return all(is_literal(i) for i in expr.items)
    if isinstance(expr, UnaryOp) and expr.op == "-":
        return is_literal(expr.operand)
    return isinstance(expr, Const) or (isinstance(expr, Name) and expr.name in CONSTANTS)
