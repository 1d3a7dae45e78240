"""The main job: compile a checked program, fit its stitches, search, and export the Pareto front."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import onnx

from stitchc.data import Dataset, Split, load_dataset
from stitchc.evolve.executor import Executor, auto_workers
from stitchc.evolve.front import pareto_front
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.hypervolume import hypervolume
from stitchc.evolve.nsga2 import nsga2
from stitchc.evolve.objectives import Evaluation, Evaluator, accuracy
from stitchc.evolve.program_genes import program_genes
from stitchc.evolve.run_store import RunStore, search_identity
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program, SearchSpec, StitchSpec
from stitchc.grammar.model_loader import load_parent
from stitchc.ir import Graph, ModelLoadError
from stitchc.stitch.similarity import CKA_SAMPLES, cka_similarity
from stitchc.stitch.fit import FitError, fit_supernet
from stitchc.stitch.plan import StitchError, StitchPlan, auto_plans, explicit_plan, repair_cycles
from stitchc.stitch.points import PointError
from stitchc.stitch.supernet import Supernet, build_supernet

from .report import Row, table, write_run
from .report_html import render


STORE_FILE = "evaluations.sqlite"


class OutputError(Exception):
    """The run folder cannot be created or written; the message names it and the cause."""


@dataclass
class SearchOutcome:
    out_dir: str
    parents: list[Row]
    front: list[Row]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_program(program: Program, out: str | None = None, workers: int | None = None) -> list[SearchOutcome]:
    """Runs every search of the program; `out` overrides the export directory; `workers` processes evaluate
    candidates (None: chosen from the cost of an evaluation)."""
    for search in program.searches.values():
        _check_writable(_out_dir(program, search, out))
    datasets = {name: load_dataset(d.source, d.split, d.seed) for name, d in program.data.items()}
    models = {name: _load_model(program, name) for name in program.models}
    outcomes = []
    for search in program.searches.values():
        out_dir = _out_dir(program, search, out)
        try:
            outcomes.append(run_search(program, search, datasets, models, out_dir, workers))
        except OSError as error:  # the run folder or its cache cannot be written (disk full, permissions...)
            raise OutputError(f"{error.filename or out_dir}: cannot write ({error.strerror or error})") from None
    return outcomes


def run_search(
    program: Program,
    search: SearchSpec,
    datasets: dict[str, Dataset],
    models: dict[str, Graph],
    out_dir: str,
    workers: int | None = None,
) -> SearchOutcome:
    started = time.perf_counter()
    groups = [program.stitches[name] for name in search.over]
    supernet = compile_supernet(program, search, groups, datasets, models, out_dir)
    objective = next(o for o in search.objectives if o.metric == "accuracy")
    dataset = datasets[objective.data]
    val = dataset.split(objective.split)
    program_part = program_genes(search.program, program.transforms, supernet.graph) if search.program else None
    space = GenomeSpace(supernet, program_part)
    evaluate = Evaluator(space, val.x, val.y)
    seeds = [space.parent_genome(i) for i in range(len(supernet.parents))] + [space.ensemble_genome()]
    box = _hypervolume_box(space, evaluate)
    workers = workers or auto_workers(box[1], len(val.x))
    store = _open_store(out_dir, space, val)
    try:
        evaluate.cache.update(store.load())
        reused = len(evaluate.cache)
        with Executor(evaluate, workers, store) as executor:
            archive = nsga2(
                space.cardinalities,
                executor.map,
                search.population,
                search.generations,
                search.seed,
                space.sample,
                seeds,
                report=_progress(search, box),
            )
    finally:
        store.close()
    if reused:
        log(f"search {search.name}: {reused} evaluations reused from {STORE_FILE}")
    front = pareto_front(archive)
    quality = hypervolume(archive, *box)
    log(
        f"search {search.name} ({search.algorithm}): {len(archive)} distinct candidates evaluated, "
        f"{len(front)} on the front, hypervolume {quality:.4f} ({time.perf_counter() - started:.1f} s)"
    )
    parent_rows = [
        _row(space, evaluate, dataset, evaluate(g), f"parent {name}", name)[0]
        for g, name in zip(seeds, supernet.parents)
    ]
    rows, exported = [], []
    for index, point in enumerate(front):
        row, model = _row(space, evaluate, dataset, point, f"front_{index:02d}.onnx", _parent_of(space, point))
        rows.append(row)
        exported.append(model)
    path = write_run(
        out_dir,
        search.name,
        parent_rows,
        rows,
        exported,
        {"value": quality, "macs_box": list(box), "axes": "accuracy × log10 MACs"},
        render(search.name, archive, parent_rows, rows, quality),
    )
    print(table(parent_rows, rows))
    log(f"wrote {path} and {len(rows)} ONNX models")
    return SearchOutcome(out_dir, parent_rows, rows)


def _open_store(out_dir: str, space: GenomeSpace, val: Split) -> RunStore:
    layout = [[g.name, list(g.options)] for g in space.genes]
    if space.program is not None:  # what each step does, fixed parameters included
        layout.append([repr(t) for t in space.program.transforms])
    identity = search_identity(space.supernet.graph.to_onnx().SerializeToString(), layout, val.x, val.y)
    return RunStore(os.path.join(out_dir, STORE_FILE), identity)


def _hypervolume_box(space: GenomeSpace, evaluate: Evaluator) -> tuple[int, int]:
    """MACs bounds of the hypervolume box: half the cheapest parent, every node of the supernet."""
    cheapest = min(evaluate.candidate(space.parent_genome(i)).macs() for i in range(len(space.supernet.parents)))
    return max(1, cheapest // 2), max(space.supernet.graph.macs(), cheapest + 1)


def _progress(search: SearchSpec, box: tuple[int, int]):
    """Logs the archive's size and hypervolume about ten times per search."""
    every = max(1, search.generations // 10)

    def report(generation: int, archive: list[Evaluation]) -> None:
        if generation % every == 0 or generation == search.generations:
            log(
                f"  generation {generation}/{search.generations}: {len(archive)} evaluated, "
                f"hypervolume {hypervolume(archive, *box):.4f}"
            )

    return report


def compile_supernet(
    program: Program,
    search: SearchSpec,
    groups: list[StitchSpec],
    datasets: dict[str, Dataset],
    models: dict[str, Graph],
    out_dir: str,
) -> Supernet:
    """Plans, builds and fits the supernetwork of one or more stitch groups (features cached in out_dir).

    Each group is matched and fitted with its own settings; with several groups, pairs of later groups are
    dropped while the merge of all parents has a cycle."""
    names = list(dict.fromkeys(name for g in groups for name in (g.left, g.right)))
    parents = {name: models[name] for name in names}
    cache = os.path.join(out_dir, "cache")
    fit_data = {g.name: datasets[g.data].split(g.split).take(g.samples) for g in groups}
    try:
        plans = [(g, plan) for g in groups for plan in _plans(g, parents, fit_data[g.name].x, cache)]
        kept = {id(p) for p in repair_cycles(parents, [p for _, p in plans])}
        plans = [(g, p) for g, p in plans if id(p) in kept]
        supernet = build_supernet(parents, [p for _, p in plans], any(g.resize for g in groups))
    except (StitchError, PointError) as error:
        span = groups[0].span if len(groups) == 1 else search.span
        raise SpecError([Diagnostic(program.file, span, str(error))], program.source) from None
    for group in groups:
        own = {p.name for g, p in plans if g is group}
        try:
            _fit_group(supernet, parents, group, fit_data[group.name], cache, own)
        except FitError as error:
            raise SpecError([Diagnostic(program.file, group.span, str(error))], program.source) from None
    return supernet


def _fit_group(
    supernet: Supernet, parents: dict[str, Graph], group: StitchSpec, data: Split, cache: str, own: set[str]
) -> None:
    """Closed-form fit of a group's stitches, then the optional SGD refinement it asks for."""
    errors = fit_supernet(supernet, parents, data.x, only=own)
    log(f"stitch {group.name}: {len(errors)} stitches fitted on {len(data.x)} samples" + _spread(errors, "feature MSE"))
    refine = group.refine
    if refine is None:
        return
    from stitchc.stitch.refine import refine_stitches  # torch loads only when a spec refines (1.5 s)
    from stitchc.stitch.task_refine import refine_on_task

    if refine.loss == "feature":
        errors = refine_stitches(supernet, parents, data.x, cache, refine.epochs, refine.lr, only=own)
        log(f"stitch {group.name}: refined on the feature MSE" + _spread(errors, "feature MSE"))
    else:
        losses = refine_on_task(supernet, data.x, data.y, refine.epochs, refine.lr, only=own)
        log(f"stitch {group.name}: refined on the task loss" + _spread(losses, "cross-entropy"))


def _spread(values: dict[str, float], what: str) -> str:
    return f" ({what} {min(values.values()):.3g} .. {max(values.values()):.3g})" if values else ""


def _plans(stitch: StitchSpec, parents: dict[str, Graph], x, cache: str) -> list[StitchPlan]:
    """Explicit points from the spec, or automatic matching (optionally weighted by linear CKA)."""
    if stitch.points is not None:
        return [
            explicit_plan(parents, p.source, p.source_path, p.target, p.target_path, stitch.resize)
            for p in stitch.points
        ]
    similarity = None
    if stitch.similarity == "cka":
        similarity = cka_similarity(parents[stitch.left], parents[stitch.right], x[:CKA_SAMPLES], cache)
    return auto_plans(stitch.left, stitch.right, parents, similarity, stitch.resize)


def _row(
    space: GenomeSpace, evaluate: Evaluator, dataset: Dataset, point: Evaluation, label: str, parent: str | None
) -> tuple[Row, onnx.ModelProto]:
    """Lowers the candidate, checks the ONNX model, and measures its test accuracy on exactly those bytes."""
    graph, steps = space.decode(point.genome)
    model = graph.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    test = accuracy(model, dataset.test.x, dataset.test.y)
    return Row(
        label,
        point.genome,
        space.switch_choices(point.genome),
        point.accuracy,
        test,
        point.macs,
        point.params,
        parent,
        tuple(steps),
    ), model


def _parent_of(space: GenomeSpace, point: Evaluation) -> str | None:
    for which, name in enumerate(space.supernet.parents):
        if point.genome == space.parent_genome(which):
            return name
    return None


def _load_model(program: Program, name: str) -> Graph:
    spec = program.models[name]
    try:
        return load_parent(spec)
    except ModelLoadError as error:
        raise SpecError(
            [Diagnostic(program.file, spec.span, f"cannot import model '{name}': {error.cause}")], program.source
        ) from None


def _check_writable(out_dir: str) -> None:
    """Fails before any work (and without creating anything) when the run folder could not be written."""
    existing = os.path.abspath(out_dir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise OutputError(f"{out_dir}: cannot write the run folder ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: cannot write the run folder ({existing} is not writable)")


def _out_dir(program: Program, search: SearchSpec, out: str | None) -> str:
    exports = [e for e in program.exports if e.search == search.name]
    if out is not None:
        return out if len(program.searches) == 1 else os.path.join(out, search.name)
    return exports[0].path if exports else os.path.join("out", search.name)
