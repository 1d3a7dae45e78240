"""Check a parsed spec: resolve names, validate types and ranges, and build the Program.

The checker keeps going after an error where it can, so one run reports every independent mistake.
"""

from __future__ import annotations

import os

from stitchc.ir.suggest import did_you_mean

from . import ast
from .check_budget import search_budget
from .check_data import check_data
from .check_ensemble import check_ensemble
from .check_growth import check_growth
from .check_points import check_points
from .check_racing import racing_confidence
from .check_train import check_train
from .check_transform import check_transform
from .diagnostics import Diagnostic, SpecError, not_executed
from .imports import import_spec, resolve, use_passes
from .metric_table import BUILTIN_METRICS
from .program import (
    ExportSpec,
    GenomeProgramSpec,
    MetricSpec,
    ModelSpec,
    ObjectiveSpec,
    PipelineSpec,
    Program,
    RefineSpec,
    SearchSpec,
    StitchSpec,
    TensorTypeSpec,
)
from .python_function import FunctionLoadError, load_function
from .rule_compiler import compile_rule
from .std_library import available_passes

LANGUAGE_VERSION = 1
SPLITS = ("train", "val", "test")
DTYPES = {
    "f16": "float16",
    "bf16": "bfloat16",
    "f32": "float32",
    "f64": "float64",
    "i32": "int32",
    "i64": "int64",
    "u8": "uint8",
    "bool": "bool",
}
EXPORT_FORMATS = ("onnx", "torch")  # `as onnx`: front_NN.onnx; `as torch`: front_NN.pt2 beside them


class _Invalid(Exception):
    """Raised inside one declaration after its diagnostic was recorded; checking goes on with the next."""


class Checker:
    """Checks one module. `library`: imported or shipped files need no search; `stack`: the files importing it."""

    def __init__(self, module: ast.Module, library: bool = False, stack: tuple[str, ...] = (), no_exec: bool = False):
        self.module = module
        self.no_exec = no_exec  # execute no user file; say what was left unchecked (`skipped`)
        self.program = Program(module.file, module.source)
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, str] = {module.file: module.source}
        self.library = library
        self.broken: set[str] = set()  # names of declarations that had errors
        self.base = os.path.dirname(os.path.abspath(module.file)) if module.file != "<spec>" else os.getcwd()
        self.stack = stack or (os.path.abspath(module.file),)

    # ----- reporting ----------------------------------------------------------------------------
    def error(self, span: ast.Span, message: str, hint: str | None = None) -> _Invalid:
        self.diagnostics.append(Diagnostic(self.module.file, span, message, hint))
        return _Invalid()

    def skipped(self, span: ast.Span, what: str) -> None:
        """Notes that `what` (at `span`) runs user code, so --no-exec neither ran nor validated it."""
        self.program.unexecuted.append(not_executed(self.module.file, span, what))

    def passes_unverifiable(self) -> bool:
        """True when a `use` file left unexecuted by --no-exec may register passes, so unknown names are not errors."""
        return self.no_exec and any(note.message.startswith("use ") for note in self.program.unexecuted)

    def unknown(self, span: ast.Span, kind: str, name: str, known) -> _Invalid:
        if name in self.broken:  # declared, but with errors already reported: no cascade
            return _Invalid()
        hint = did_you_mean(name, known, f"known: {', '.join(sorted(known))}" if known else None)
        return self.error(span, f"unknown {kind} '{name}'", hint)

    # ----- entry point ----------------------------------------------------------------------------
    def check(self) -> Program:
        program = self.collect()
        if self.diagnostics:
            raise SpecError(self.diagnostics, self.module.source, self.sources)
        return program

    def collect(self) -> Program:
        """Checks every statement, recording diagnostics instead of raising."""
        header = self.module.header
        if header.version != LANGUAGE_VERSION:
            self.error(
                header.span, f"unsupported language version {header.version} (this stitchc reads {LANGUAGE_VERSION})"
            )
        handlers = {
            ast.DataDecl: self.data,
            ast.MetricDecl: self.metric,
            ast.ModelDecl: self.model,
            ast.StitchDecl: self.stitch,
            ast.SearchDecl: self.search,
            ast.ExportDecl: self.export,
            ast.RuleDecl: self.rule,
            ast.TransformDecl: self.transform,
            ast.PipelineDecl: self.pipeline,
            ast.ImportDecl: lambda decl: import_spec(self, decl),
            ast.UseDecl: lambda decl: use_passes(self, decl),
        }
        for statement in self.module.statements:
            before, invalid = len(self.diagnostics), False
            try:
                handlers[type(statement)](statement)
            except _Invalid:  # an error here, or a name it needs was broken: either way no follow-on errors
                invalid = True
            if (invalid or len(self.diagnostics) > before) and hasattr(statement, "name"):
                self.broken.add(statement.name)
        passes_only = self.program.rules or self.program.pipelines or self.program.transforms
        if not self.library and not self.program.searches and not passes_only and not self.diagnostics:
            self.error(ast.Span(1, 1, 1, 2), "the spec declares no search", "add `search NAME over STITCH { ... }`")
        return self.program

    def taken(self) -> set[str]:
        program = self.program
        return (
            set(program.data)
            | set(program.metrics)
            | set(program.models)
            | set(program.stitches)
            | set(program.searches)
            | set(program.rules)
            | set(program.transforms)
            | set(program.pipelines)
        )

    def declare(self, span: ast.Span, name: str) -> None:
        if name in self.taken():
            raise self.error(span, f"'{name}' is already declared")

    # ----- declarations ---------------------------------------------------------------------------
    def data(self, decl: ast.DataDecl) -> None:
        self.declare(decl.span, decl.name)
        self.program.data[decl.name] = check_data(self, decl)

    def metric(self, decl: ast.MetricDecl) -> None:
        """`metric NAME = python("file.py:function", range = [LOW, HIGH])`; the function is loaded now."""
        self.declare(decl.span, decl.name)
        if decl.name in BUILTIN_METRICS:
            raise self.error(decl.span, f"'{decl.name}' is a built-in metric; choose another name")
        call = self.call(decl.value, ("python",))
        self.only_kwargs(call, ("range",))
        source, path, function = self.python_ref(call, "function", "file.py:function", "metric")
        bounds = self.range_kwarg(call) if "range" in call.kwargs else (0.0, 1.0)
        if path is None:
            raise _Invalid()
        if self.no_exec:
            self.skipped(source.span, f"metric {decl.name} = python(...)")
        else:
            self._load_metric(source, path, function)
        self.program.metrics[decl.name] = MetricSpec(decl.name, path, function, bounds, decl.span)

    def _load_metric(self, source: ast.String, path: str, function: str) -> None:
        try:
            load_function(path, function)
        except FunctionLoadError as error:
            raise self.error(source.span, f"metric file '{os.path.relpath(path, self.base)}' {error}") from None

    def python_ref(self, call: ast.Call, what: str, form: str, kind: str) -> tuple[ast.String, str | None, str]:
        """The `"file.py:name"` argument: (the string, the file's absolute path or None if missing, name)."""
        source = self.string_arg(call, 0, f'{what} as "{form}"')
        file, _, entry = source.value.rpartition(":")
        if not file or not entry.isidentifier():
            raise self.error(source.span, f'expected "{form}", got "{source.value}"')
        return source, resolve(self, ast.String(file, source.span), kind), entry

    def range_kwarg(self, call: ast.Call) -> tuple[float, float]:
        value = call.kwargs["range"][1]
        items = value.items if isinstance(value, ast.ListExpr) else ()
        if len(items) != 2 or not all(isinstance(i, ast.Number) for i in items) or items[0].value >= items[1].value:
            raise self.error(value.span, "'range' must be two numbers [LOW, HIGH] with LOW < HIGH")
        return float(items[0].value), float(items[1].value)

    def model(self, decl: ast.ModelDecl) -> None:
        self.declare(decl.span, decl.name)
        call = self.call(decl.value, ("onnx", "torch"))
        if call.func.dotted == "torch":
            return self.torch_model(decl, call)
        self.only_kwargs(call, ())
        path = self.string_arg(call, 0, "model file")
        full = os.path.normpath(os.path.join(self.base, path.value))
        if not os.path.isfile(full):
            raise self.error(path.span, f"model file '{path.value}' not found", f"paths are relative to {self.base}")
        self.program.models[decl.name] = ModelSpec(decl.name, "onnx", full, path.span)

    def torch_model(self, decl: ast.ModelDecl, call: ast.Call) -> None:
        self.only_kwargs(call, ("weights", "input"))
        source, path, entry = self.python_ref(call, "module", "file.py:Class", "torch module")
        weights = None
        if "weights" in call.kwargs:
            value = call.kwargs["weights"][1]
            if not isinstance(value, ast.String):
                raise self.error(value.span, "'weights' must be a file name string")
            weights = resolve(self, value, "weights")
        if "input" not in call.kwargs:
            raise self.error(call.span, "torch() needs the input type, for example input = f32[N, 1, 8, 8]")
        input_type = self.tensor_type(call.kwargs["input"][1])
        if path is None or (weights is None and "weights" in call.kwargs):
            raise _Invalid()
        self.program.models[decl.name] = ModelSpec(decl.name, "torch", path, source.span, entry, weights, input_type)

    def tensor_type(self, expr: ast.Expr) -> TensorTypeSpec:
        if not isinstance(expr, ast.TensorTypeExpr):
            raise self.error(expr.span, "expected a tensor type such as f32[N, 1, 8, 8]")
        if expr.dtype not in DTYPES:
            raise self.unknown(expr.span, "element type", expr.dtype, DTYPES)
        if not expr.dims:
            raise self.error(expr.span, "a tensor type needs at least one dim")
        for dim in expr.dims:
            if isinstance(dim, int) and dim < 1:
                raise self.error(expr.span, f"dims must be at least 1, got {dim}")
        return TensorTypeSpec(DTYPES[expr.dtype], expr.dims)

    def stitch(self, decl: ast.StitchDecl) -> None:
        self.declare(decl.span, decl.name)
        for ref in (decl.left, decl.right):
            if ref.dotted not in self.program.models:
                raise self.unknown(ref.span, "model", ref.dotted, self.program.models)
        if decl.left.dotted == decl.right.dotted:
            raise self.error(decl.right.span, f"a model cannot be stitched to itself ('{decl.left.dotted}')")
        entries = self.entries(decl, {"points", "layer", "fit", "resize", "refine"}, required=("fit",))
        resize = self.boolean(entries["resize"], "resize") if "resize" in entries else False
        points, similarity = self.points(decl, entries.get("points"), resize)
        refine = self.refine(entries["refine"]) if "refine" in entries else None
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
        self.program.stitches[decl.name] = StitchSpec(
            decl.name,
            decl.left.dotted,
            decl.right.dotted,
            init,
            data,
            split,
            samples,
            decl.span,
            points,
            similarity,
            resize,
            refine,
        )

    def points(self, decl: ast.StitchDecl, expr: ast.Expr | None, resize: bool):
        """`auto`, `auto(similarity = cka)` or `[a.x -> b.y, ...]`: (points or None, similarity)."""
        if expr is None:
            return None, "none"
        if isinstance(expr, ast.ListExpr):
            before = len(self.diagnostics)
            pairs = check_points(self, decl, expr, resize)
            if len(self.diagnostics) > before:
                raise _Invalid()
            return pairs, "none"
        if isinstance(expr, ast.Call) and expr.func.dotted == "auto":
            self.only_kwargs(expr, ("similarity",))
            if expr.args:
                raise self.error(expr.args[0].span, "auto() takes only `similarity = none | cka`")
            similarity = (
                self.keyword(expr.kwargs["similarity"][1], ("none", "cka"), "similarity") if expr.kwargs else "none"
            )
            return None, similarity
        self.keyword(expr, ("auto",), "points")
        return None, "none"

    def refine(self, expr: ast.Expr) -> RefineSpec:
        call = self.call(expr, ("sgd",))
        self.only_kwargs(call, ("loss", "epochs", "lr"))
        if call.args:
            raise self.error(call.args[0].span, "sgd() takes keyword arguments loss, epochs, lr")
        loss = self.keyword(call.kwargs["loss"][1], ("feature", "task"), "loss") if "loss" in call.kwargs else "feature"
        epochs = self.int_kwarg(call, "epochs", 3, minimum=1)
        lr = 1e-3
        if "lr" in call.kwargs:
            value = call.kwargs["lr"][1]
            if not isinstance(value, ast.Number) or not 0 < value.value <= 10:
                raise self.error(value.span, "'lr' must be a number in (0, 10]")
            lr = float(value.value)
        return RefineSpec(loss, epochs, lr)

    def boolean(self, expr: ast.Expr, what: str) -> bool:
        return self.keyword(expr, ("true", "false"), what) == "true"

    def rule(self, decl: ast.RuleDecl) -> None:
        self.declare(decl.span, decl.name)
        spec = compile_rule(self, decl)
        if spec is not None:
            self.program.rules[decl.name] = spec

    def transform(self, decl: ast.TransformDecl) -> None:
        self.declare(decl.span, decl.name)
        spec = check_transform(self, decl)
        if spec is not None:
            self.program.transforms[decl.name] = spec

    def pipeline(self, decl: ast.PipelineDecl) -> None:
        """`[p1, p2]` or `fixpoint([p1, p2], max = 8)`; names are rules, pipelines or registered passes."""
        self.declare(decl.span, decl.name)
        fixpoint, rounds, expr = False, 1, decl.value
        if isinstance(expr, ast.Call):
            call = self.call(expr, ("fixpoint",))
            self.only_kwargs(call, ("max",))
            if len(call.args) != 1:
                raise self.error(call.span, "fixpoint() takes one list of passes and `max = ROUNDS`")
            fixpoint, rounds, expr = True, self.int_kwarg(call, "max", 16, minimum=1), call.args[0]
        if not isinstance(expr, ast.ListExpr) or not expr.items:
            raise self.error(expr.span, "a pipeline is a non-empty list of pass names, such as [fold_conv_bn, dce]")
        known = set(available_passes()) | set(self.program.rules) | set(self.program.pipelines)
        names = []
        for item in expr.items:
            if not isinstance(item, ast.Ref) or len(item.parts) != 1:
                raise self.error(item.span, "expected a pass name")
            if item.dotted not in known and not self.passes_unverifiable():
                raise self.unknown(item.span, "pass", item.dotted, known)
            names.append(item.dotted)
        self.program.pipelines[decl.name] = PipelineSpec(decl.name, tuple(names), fixpoint, rounds, decl.span)

    def search(self, decl: ast.SearchDecl) -> None:
        self.declare(decl.span, decl.name)
        model = self.searched_model(decl)
        allowed = {"genome", "algorithm", "objectives", "train", "budget", "racing"}
        entries = self.entries(decl, allowed, required=("algorithm", "objectives"))
        genome = self.genome(entries["genome"]) if "genome" in entries else None
        nimble = "nimble" in getattr(entries.get("train"), "kwargs", {})  # the width a Nimble controller learns
        if model is not None and genome is None and not nimble:
            raise self.error(
                decl.span,
                f"search '{decl.name}' over model '{model}' has nothing to search",
                "give it program genes: genome = program(widen, deepen, max = 4)",
            )
        algorithm = self.call(entries["algorithm"], ("nsga2", "ga", "gomea", "random", "grow"))
        growth = (
            check_growth(self, algorithm, genome, entries.get("budget")) if algorithm.func.dotted == "grow" else None
        )
        budget = search_budget(self, entries.get("budget"), algorithm)
        population, generations = self.algorithm(algorithm) if growth is None else (1, genome.max_length)
        if budget is not None and "generations" not in algorithm.kwargs:
            generations = None
        seed = self.int_kwarg(algorithm, "seed", 0, minimum=0)
        objectives = self.objectives(entries["objectives"])
        untrained = next((o for o in objectives if o.metric == "train_steps" and "train" not in entries), None)
        if untrained is not None:
            raise self.error(
                untrained.span, "'train_steps' counts the search's training: add `train = DATA.SPLIT(...)`"
            )
        racing = racing_confidence(self, entries["racing"], objectives) if "racing" in entries else None
        self.program.searches[decl.name] = SearchSpec(
            decl.name,
            tuple(g.dotted for g in decl.over),
            population,
            generations,
            seed,
            objectives,
            decl.span,
            genome,
            algorithm.func.dotted,
            check_train(self, entries["train"]) if "train" in entries else None,
            model,
            growth,
            budget,
            racing,
        )

    def searched_model(self, decl: ast.SearchDecl) -> str | None:
        """The one model a search is over (`search grow over a`), or None for stitch groups (each checked)."""
        if len(decl.over) == 1 and decl.over[0].dotted in self.program.models:
            return decl.over[0].dotted
        for group in decl.over:
            if group.dotted not in self.program.stitches:
                known = list(self.program.stitches) + (list(self.program.models) if len(decl.over) == 1 else [])
                raise self.unknown(group.span, "stitch", group.dotted, known)
        if len({g.dotted for g in decl.over}) != len(decl.over):
            raise self.error(decl.over[-1].span, "a stitch group is listed twice")
        return None

    def algorithm(self, call: ast.Call) -> tuple[int, int]:
        """(population, generations): `nsga2(population, generations, seed)`, or `random(samples, seed)`,
        which is the initial population alone."""
        if call.func.dotted == "random":
            self.only_kwargs(call, ("samples", "seed"))
            return self.int_kwarg(call, "samples", 256, minimum=1), 0
        self.only_kwargs(call, ("population", "generations", "seed"))
        population = self.int_kwarg(call, "population", 48, minimum=4)
        if population % 4 and call.func.dotted == "nsga2":
            span = call.kwargs["population"][1].span
            raise self.error(
                span, f"population must be a multiple of 4 for NSGA-II tournament selection, got {population}"
            )
        return population, self.int_kwarg(call, "generations", 20, minimum=0)

    def genome(self, expr: ast.Expr) -> GenomeProgramSpec | None:
        """`switches`, `[switches, program(widen, jitter, max = 4)]` or `program(...)` alone (a search over
        stitch groups always has its switch genes: the two program forms are the same there)."""
        items = expr.items if isinstance(expr, ast.ListExpr) and expr.items else (expr,)
        if isinstance(items[0], ast.Call) and len(items) == 1:
            items = (None, items[0])
        else:
            self.keyword(items[0], ("switches",), "genome")
        if len(items) == 1:
            return None
        if len(items) > 2:
            raise self.error(items[2].span, "a genome is [switches] or [switches, program(...)]")
        call = self.call(items[1], ("program",))
        self.only_kwargs(call, ("max",))
        names = []
        for arg in call.args:
            if isinstance(arg, ast.Call) and arg.func.dotted == "ensemble":
                names.append(check_ensemble(self, arg).name)
                continue
            if not isinstance(arg, ast.Ref) or arg.dotted not in self.program.transforms:
                raise self.unknown(
                    arg.span, "morphism or mutation", getattr(arg, "dotted", "?"), self.program.transforms
                )
            names.append(arg.dotted)
        if not names:
            raise self.error(call.span, "program() needs at least one morphism or mutation")
        return GenomeProgramSpec(tuple(names), self.int_kwarg(call, "max", 4, minimum=1))

    def export(self, decl: ast.ExportDecl) -> None:
        search, *rest = decl.what.parts
        if search not in self.program.searches and search not in self.broken:  # a broken one: check the rest
            raise self.unknown(decl.what.span, "search", search, self.program.searches)
        if rest != ["pareto"]:
            raise self.error(
                decl.what.span, f"cannot export '{decl.what.dotted}'", f"write `export {search}.pareto to ...`"
            )
        if decl.format.dotted not in EXPORT_FORMATS:
            raise self.unknown(decl.format.span, "export format", decl.format.dotted, EXPORT_FORMATS)
        if not decl.path.value:
            raise self.error(decl.path.span, "the export directory is empty")
        path = os.path.normpath(os.path.join(self.base, decl.path.value))  # relative to the spec, like every path
        other = next((e.search for e in self.program.exports if e.path == path and e.search != search), None)
        if other is not None:  # the second run folder would overwrite the first's front.json and models
            raise self.error(
                decl.path.span,
                f"searches '{other}' and '{search}' both export to '{decl.path.value}'",
                "give each search its own folder",
            )
        if search in self.broken:
            raise _Invalid()
        self.program.exports.append(ExportSpec(search, path, decl.format.dotted, decl.span))

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
        if (
            not isinstance(value, ast.ListExpr)
            or len(value.items) != 3
            or not all(isinstance(i, ast.Number) for i in value.items)
        ):
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
        """Two or more `maximize METRIC` / `minimize METRIC`, each listed once; every one is checked."""
        if not isinstance(expr, ast.ListExpr) or len(expr.items) < 2:
            raise self.error(
                expr.span,
                "'objectives' must list at least two, such as [maximize accuracy(digits.val), minimize macs]",
            )
        result, labels, failed = [], set(), False
        for item in expr.items:
            try:
                objective = self.objective(item)
                if objective.label in labels:
                    raise self.error(item.span, f"objective '{objective.label}' is listed twice")
            except _Invalid:
                failed = True
                continue
            labels.add(objective.label)
            result.append(objective)
        if failed:
            raise _Invalid()
        return tuple(result)

    def objective(self, item: ast.Expr) -> ObjectiveSpec:
        """A built-in metric (its one direction, its keyword arguments) or a declared user metric."""
        if not isinstance(item, ast.Objective):
            raise self.error(item.span, "an objective starts with maximize or minimize")
        target = item.expr
        call = target if isinstance(target, ast.Call) else None
        name = call.func.dotted if call else getattr(target, "dotted", None)
        known = [*BUILTIN_METRICS, *self.program.metrics]
        if name not in known:
            declare = f'known: {", ".join(sorted(known))}; or declare it: metric {name} = python("file.py:function")'
            if name in self.broken:
                raise self.unknown(target.span, "metric", str(name), known)
            raise self.error(target.span, f"unknown metric '{name}'", did_you_mean(str(name), known, declare))
        signature = BUILTIN_METRICS.get(name)
        if signature is not None and signature.direction != item.direction:
            raise self.error(item.span, f"{name} can only be {signature.direction}d")
        params = signature.params if signature else {}
        if call is not None:
            self.only_kwargs(call, tuple(params))
        args = tuple(
            (key, self.int_kwarg(call, key, default, minimum) if call else default)
            for key, (default, minimum) in params.items()
        )
        positional = call.args if call else ()
        if signature is not None and not signature.on_data:
            if positional:
                raise self.error(positional[0].span, f"{name} is measured on the model alone and takes no data split")
            return ObjectiveSpec(item.direction, name, args=args, span=item.span)
        if len(positional) != 1 or not isinstance(positional[0], ast.Ref):
            raise self.error(target.span, f"{name} takes the data split to measure on, for example {name}(digits.val)")
        data, split = self.data_split(positional[0])
        return ObjectiveSpec(item.direction, name, data, split, args, item.span)


def check(module: ast.Module, no_exec: bool = False) -> Program:
    return Checker(module, no_exec=no_exec).check()


def load_program(path: str, no_exec: bool = False) -> Program:
    """Parses and checks a spec file; raises SpecError with every diagnostic found. `no_exec`: execute no user
    file (`use`, `python(...)` metrics); `program.unexecuted` then notes each one left unchecked."""
    from .parser import parse_file

    return check(parse_file(path), no_exec)
