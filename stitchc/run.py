"""The main job: compile a checked program, fit its stitches, search, and export the Pareto front."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import onnx

from stitchc.data import Dataset, load_dataset
from stitchc.evolve.executor import Executor
from stitchc.evolve.front import pareto_front
from stitchc.evolve.nsga2 import nsga2
from stitchc.evolve.objectives import Evaluation, Evaluator, accuracy
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program, SearchSpec, StitchSpec
from stitchc.ir import Graph, ModelLoadError, load_onnx
from stitchc.passes.similarity import CKA_SAMPLES, cka_similarity
from stitchc.passes.stitch_fit import fit_supernet
from stitchc.passes.stitch_refine import refine_stitches
from stitchc.passes.stitch_plan import StitchError, StitchPlan, auto_plans, explicit_plan
from stitchc.passes.stitch_points import PointError
from stitchc.passes.supernet import Supernet, build_supernet

from .report import Row, table, write_run


@dataclass
class SearchOutcome:
    out_dir: str
    parents: list[Row]
    front: list[Row]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_program(program: Program, out: str | None = None, workers: int = 1) -> list[SearchOutcome]:
    """Runs every search of the program; `out` overrides the export directory; `workers` evaluate in parallel."""
    datasets = {name: load_dataset(d.source, d.split, d.seed) for name, d in program.data.items()}
    models = {name: _load_model(program, name) for name in program.models}
    outcomes = []
    for search in program.searches.values():
        outcomes.append(run_search(program, search, datasets, models, _out_dir(program, search, out), workers))
    return outcomes


def run_search(program: Program, search: SearchSpec, datasets: dict[str, Dataset], models: dict[str, Graph],
               out_dir: str, workers: int = 1) -> SearchOutcome:
    started = time.perf_counter()
    supernet = compile_supernet(program, program.stitches[search.over], datasets, models, out_dir)
    objective = next(o for o in search.objectives if o.metric == "accuracy")
    dataset = datasets[objective.data]
    val = dataset.split(objective.split)
    evaluate = Evaluator(supernet, val.x, val.y)
    seeds = [supernet.parent_genome(i) for i in range(len(supernet.parents))] + [supernet.ensemble_genome()]
    with Executor(evaluate, workers) as executor:
        archive = nsga2([len(g.options) for g in supernet.genes], executor.map, search.population,
                        search.generations, search.seed, seeds)
    front = pareto_front(archive)
    log(f"search {search.name}: {len(archive)} distinct candidates evaluated, {len(front)} on the front "
        f"({time.perf_counter() - started:.1f} s)")
    parent_rows = [_row(supernet, evaluate, dataset, evaluate(g), f"parent {name}", name)[0]
                   for g, name in zip(seeds, supernet.parents)]
    rows, exported = [], []
    for index, point in enumerate(front):
        row, model = _row(supernet, evaluate, dataset, point, f"front_{index:02d}.onnx", _parent_of(supernet, point))
        rows.append(row)
        exported.append(model)
    path = write_run(out_dir, search.name, parent_rows, rows, exported)
    print(table(parent_rows, rows))
    log(f"wrote {path} and {len(rows)} ONNX models")
    return SearchOutcome(out_dir, parent_rows, rows)


def compile_supernet(program: Program, stitch: StitchSpec, datasets: dict[str, Dataset], models: dict[str, Graph],
                     out_dir: str) -> Supernet:
    """Plans, builds and fits the stitched supernetwork of a stitch declaration (features cached in out_dir)."""
    parents = {stitch.left: models[stitch.left], stitch.right: models[stitch.right]}
    fit_data = datasets[stitch.data].split(stitch.split).take(stitch.samples)
    cache = os.path.join(out_dir, "cache")
    try:
        plans = _plans(stitch, parents, fit_data.x, cache)
        supernet = build_supernet(parents, plans, stitch.resize)
    except (StitchError, PointError) as error:
        raise SpecError([Diagnostic(program.file, stitch.span, str(error))], program.source) from None
    errors = fit_supernet(supernet, parents, fit_data.x, cache)
    if stitch.refine is not None:
        errors = refine_stitches(supernet, parents, fit_data.x, cache, stitch.refine.epochs, stitch.refine.lr)
    log(f"stitch {stitch.name}: {len(supernet.stitches)} stitches fitted on {len(fit_data.x)} samples "
        f"(feature MSE {min(errors.values()):.3g} .. {max(errors.values()):.3g})")
    return supernet


def _plans(stitch: StitchSpec, parents: dict[str, Graph], x, cache: str) -> list[StitchPlan]:
    """Explicit points from the spec, or automatic matching (optionally weighted by linear CKA)."""
    if stitch.points is not None:
        return [explicit_plan(parents, p.source, p.source_path, p.target, p.target_path, stitch.resize)
                for p in stitch.points]
    similarity = None
    if stitch.similarity == "cka":
        similarity = cka_similarity(parents[stitch.left], parents[stitch.right], x[:CKA_SAMPLES], cache)
    return auto_plans(stitch.left, stitch.right, parents, similarity, stitch.resize)


def _row(supernet: Supernet, evaluate: Evaluator, dataset: Dataset, point: Evaluation, label: str,
         parent: str | None) -> tuple[Row, onnx.ModelProto]:
    """Lowers the candidate, checks the ONNX model, and measures its test accuracy on exactly those bytes."""
    model = evaluate.candidate(point.genome).to_onnx()
    onnx.checker.check_model(model, full_check=True)
    test = accuracy(model, dataset.test.x, dataset.test.y)
    choices = {gene.name: gene.options[value] for gene, value in zip(supernet.genes, point.genome)
               if value != 0 and gene.name != "output"}
    choices["output"] = supernet.genes[-1].options[point.genome[-1]]
    return Row(label, point.genome, choices, point.accuracy, test, point.macs, point.params, parent), model


def _parent_of(supernet: Supernet, point: Evaluation) -> str | None:
    for which, name in enumerate(supernet.parents):
        if point.genome == supernet.parent_genome(which):
            return name
    return None


def _load_model(program: Program, name: str) -> Graph:
    spec = program.models[name]
    try:
        return load_onnx(spec.path, parent=name)
    except ModelLoadError as error:
        raise SpecError([Diagnostic(program.file, spec.span, f"cannot import model '{name}': {error.cause}")],
                        program.source) from None


def _out_dir(program: Program, search: SearchSpec, out: str | None) -> str:
    exports = [e for e in program.exports if e.search == search.name]
    if out is not None:
        return out if len(program.searches) == 1 else os.path.join(out, search.name)
    return exports[0].path if exports else os.path.join("out", search.name)
