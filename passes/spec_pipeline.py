"""Pipelines from specs: `pipeline NAME = [...]` becomes a PassManager of registered passes and rules."""

from __future__ import annotations

from stitchc.grammar.ast import Span
from stitchc.grammar.checker import load_program
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program

from .base import PassManager, get_pass
from .rules.rule_pass import RulePass


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
