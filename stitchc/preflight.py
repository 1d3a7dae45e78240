"""Check before work: every dataset opens, every parent loads (torch classes built, weights loaded), and every
parent's input fits the data it is fitted and evaluated on (shape and element type), and every parent's output
fits every metric it is scored by (output_check.py).

`stitchc check` and `stitchc run` both start here, so a spec that checks does not fail later on data or
parents; every problem is a located diagnostic at the declaration, all of them reported in one run."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from stitchc.grammar.diagnostics import Diagnostic, SpecError, not_executed
from stitchc.grammar.model_loader import load_parent
from stitchc.grammar.program import Program
from stitchc.ir import Graph, ModelLoadError, TensorType

from .data import DataError, Dataset, EmptySplitError, load_data
from .output_check import check_outputs
from .small_splits import warn_small_splits


@dataclass
class Inputs:
    datasets: dict[str, Dataset]
    models: dict[str, Graph]


def prepare(program: Program, no_exec: bool = False) -> Inputs:
    """Loads the program's data and parents and checks that they fit; raises SpecError with every problem.

    A torch parent's declared input is compared with its data before the class is built (a net declared for
    another size usually cannot even run on it); an ONNX parent's input once the file is imported. An empty split
    is an error, a fit split smaller than its stitch asks for a warning (small_splits.py). `no_exec`: data from a
    Python function and torch parents are neither loaded nor checked (their code is not run); each gets a note in
    `program.unexecuted`, and what depends on them only is not checked either."""
    diagnostics: list[Diagnostic] = []
    datasets, models = {}, {}
    for name, spec in program.data.items():
        if no_exec and spec.kind == "python":
            program.unexecuted.append(not_executed(program.file, spec.span, f"data {name} = python(...)"))
            continue
        try:
            datasets[name] = load_data(spec)
        except EmptySplitError as error:
            diagnostics.append(Diagnostic(program.file, spec.span, str(error)))
        except DataError as error:
            diagnostics.append(Diagnostic(program.file, spec.span, f"cannot load data '{name}': {error}"))
    uses = _uses(program)
    for name, spec in program.models.items():
        if no_exec and spec.format == "torch":
            program.unexecuted.append(not_executed(program.file, spec.span, f"model {name} = torch(...)"))
            continue
        declared = TensorType(np.dtype(spec.input.dtype), spec.input.shape) if spec.input is not None else None
        problems = _mismatches(name, declared, uses, datasets) if declared is not None else []
        if not problems:
            try:
                models[name] = load_parent(spec)
                problems = _mismatches(name, models[name].inputs[0].type, uses, datasets)
            except ModelLoadError as error:
                problems = [f"cannot import model '{name}': {error.cause}"]
        diagnostics += [Diagnostic(program.file, spec.span, problem) for problem in problems]
    if diagnostics:
        raise SpecError(diagnostics, program.source)
    check_outputs(_loaded_part(program, datasets, models), datasets, models)
    warn_small_splits(program, datasets)
    return Inputs(datasets, models)


def unexecuted_report(program: Program) -> str:
    """The notes of `check --no-exec`, one rendered note per declaration whose user code was not run."""
    notes = sorted(program.unexecuted, key=lambda n: (n.file != program.file, n.file, n.span.line))
    return "".join(n.render(program.source if n.file == program.file else None) + "\n" for n in notes)


def _loaded_part(program: Program, datasets: dict, models: dict) -> Program:
    """The program with only the searches whose parents and data all loaded (all of them, unless --no-exec)."""

    def loaded(search) -> bool:
        parents = program.parents_of(search)
        data = [o.data for o in search.objectives if o.data is not None]
        return all(m in models for m in parents) and all(d in datasets for d in data)

    return replace(program, searches={k: s for k, s in program.searches.items() if loaded(s)})


def _mismatches(model: str, wanted: TensorType, uses: list[tuple[str, str]], datasets: dict[str, Dataset]):
    """One message per dataset the model is used with whose samples its input cannot take."""
    found = [input_mismatch(wanted, datasets[d], d) for m, d in uses if m == model and d in datasets]
    return [f"model '{model}' {problem}" for problem in found if problem]


def _uses(program: Program) -> list[tuple[str, str]]:
    """(model, data) pairs: each stitch group's parents with its fit data, each search's parents with the data
    of its objectives."""
    pairs = []
    for group in program.stitches.values():
        pairs += [(group.left, group.data), (group.right, group.data)]
    for search in program.searches.values():
        parents = program.parents_of(search)
        pairs += [(m, o.data) for o in search.objectives if o.data is not None for m in parents]
    return list(dict.fromkeys(pairs))


def input_mismatch(wanted: TensorType, data: Dataset, name: str) -> str | None:
    """Why an input of type `wanted` cannot take the samples of data `name` (both types named), or None when
    it can. Symbolic (or unknown) dims take any size; the batch dim is not compared."""
    given = TensorType(np.dtype(data.train.dtype), (wanted.shape[0] if wanted.shape else "N", *data.train.shape))
    fits = np.dtype(wanted.dtype) == given.dtype and (
        wanted.shape is None
        or (
            len(wanted.shape) == len(given.shape)
            and all(not isinstance(w, int) or w == g for w, g in zip(wanted.shape[1:], given.shape[1:]))
        )
    )
    return None if fits else f"takes {wanted} but data '{name}' gives {given}"
