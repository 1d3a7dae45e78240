"""Check before work: every parent's output fits every metric it will be scored by, on that metric's data."""

from __future__ import annotations

from stitchc.data import Dataset
from stitchc.evolve.metrics.output_fit import output_mismatch
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program
from stitchc.ir import Graph


def check_outputs(program: Program, datasets: dict[str, Dataset], models: dict[str, Graph]) -> None:
    """Raises SpecError with one diagnostic per objective (at the objective) that some parent's output does not
    fit, naming the parent, its output type and what the metric needs."""
    diagnostics = []
    for search in program.searches.values():
        parents = program.parents_of(search)
        for objective in search.objectives:
            if objective.data is None:
                continue
            labels = datasets[objective.data].split(objective.split).labels()
            for name in parents:
                why = output_mismatch(objective, name, models[name].outputs[0].type, labels)
                if why is not None:
                    diagnostics.append(Diagnostic(program.file, objective.span, f"{objective.label} {why}"))
                    break
    if diagnostics:
        raise SpecError(diagnostics, program.source)
