"""Pipelines from specs: `pipeline NAME = [...]` becomes a PassManager of the spec's rules, its earlier
pipelines and registered passes (built-ins and the shipped std.stitch rules included)."""

from __future__ import annotations

from stitchc.passes.base import PassManager
from stitchc.passes.rules.rule_pass import RulePass

from .ast import Span
from .checker import load_program
from .diagnostics import Diagnostic, SpecError
from .program import Program
from .std_library import get_pass


def passes_from_spec(path: str, pipeline: str | None = None, debug: bool = False) -> PassManager:
    """The PassManager of pipeline `pipeline` in the spec at `path` (the only one when None).

    Raises SpecError (located, renderable) when the spec is invalid or the pipeline is missing or ambiguous.
    """
    program = load_program(path)
    return pipeline_manager(program, _choose(program, pipeline), debug)


def pipeline_manager(program: Program, name: str, debug: bool = False) -> PassManager:
    spec = program.pipelines[name]
    passes = []
    for item in spec.passes:
        if item in program.pipelines:
            passes.append(pipeline_manager(program, item, debug))
        elif item in program.rules:
            passes.append(RulePass(program.rules[item]))
        else:
            passes.append(get_pass(item))
    return PassManager(passes, fixpoint=spec.fixpoint, max_rounds=spec.max_rounds, debug=debug, name=name)


def _choose(program: Program, name: str | None) -> str:
    if name is not None and name in program.pipelines:
        return name
    if name is None and len(program.pipelines) == 1:
        return next(iter(program.pipelines))
    known = ", ".join(program.pipelines) or "none"
    message = (
        f"no pipeline '{name}' in the spec (pipelines: {known})"
        if name
        else f"the spec must declare exactly one pipeline, or name one (pipelines: {known})"
    )
    raise SpecError([Diagnostic(program.file, Span(1, 1, 1, 2), message)], program.source)
