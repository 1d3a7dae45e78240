"""Check before work: every dataset opens, every parent loads (torch classes built, weights loaded), and every
parent's input fits the data it is fitted and evaluated on (shape and element type).

`stitchc check` and `stitchc run` both start here, so a spec that checks does not fail later on data or
parents; every problem is a located diagnostic at the declaration, all of them reported in one run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.model_loader import load_parent
from stitchc.grammar.program import Program
from stitchc.ir import Graph, ModelLoadError, TensorType

from .data import DataError, Dataset, load_data


@dataclass
class Inputs:
    datasets: dict[str, Dataset]
    models: dict[str, Graph]


def prepare(program: Program) -> Inputs:
    """Loads the program's data and parents and checks that they fit; raises SpecError with every problem."""
    diagnostics: list[Diagnostic] = []
    datasets, models = {}, {}
    for name, spec in program.data.items():
        try:
            datasets[name] = load_data(spec)
        except DataError as error:
            diagnostics.append(Diagnostic(program.file, spec.span, f"cannot load data '{name}': {error}"))
    for name, spec in program.models.items():
        try:
            models[name] = load_parent(spec)
        except ModelLoadError as error:
            diagnostics.append(Diagnostic(program.file, spec.span, f"cannot import model '{name}': {error.cause}"))
    for model, data in _uses(program):
        if model in models and data in datasets:
            problem = input_mismatch(models[model], datasets[data], data)
            if problem:
                diagnostics.append(Diagnostic(program.file, program.models[model].span, f"model '{model}' {problem}"))
    if diagnostics:
        raise SpecError(diagnostics, program.source)
    return Inputs(datasets, models)


def _uses(program: Program) -> list[tuple[str, str]]:
    """(model, data) pairs: each stitch group's parents with its fit data, each search's parents with the data
    of its objectives."""
    pairs = []
    for group in program.stitches.values():
        pairs += [(group.left, group.data), (group.right, group.data)]
    for search in program.searches.values():
        parents = [m for name in search.over for m in (program.stitches[name].left, program.stitches[name].right)]
        pairs += [(m, o.data) for o in search.objectives if o.data is not None for m in parents]
    return list(dict.fromkeys(pairs))


def input_mismatch(graph: Graph, data: Dataset, name: str) -> str | None:
    """Why the graph's input cannot take the samples of data `name` (both types named), or None when it can.
    Symbolic (or unknown) dims of the input take any size; the batch dim is not compared."""
    wanted = graph.inputs[0].type
    given = TensorType(np.dtype(data.train.dtype), (wanted.shape[0] if wanted.shape else "N", *data.train.shape))
    fits = np.dtype(wanted.dtype) == given.dtype and (
        wanted.shape is None
        or (
            len(wanted.shape) == len(given.shape)
            and all(not isinstance(w, int) or w == g for w, g in zip(wanted.shape[1:], given.shape[1:]))
        )
    )
    return None if fits else f"takes {wanted} but data '{name}' gives {given}"
