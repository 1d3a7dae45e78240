"""The main job: compile a checked program, fit its stitches, search, and export the Pareto front."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import onnx

from stitchc.data import Dataset
from stitchc.data.spill import slow_to_read, spill
from stitchc.evolve.executor import Executor, auto_workers
from stitchc.evolve.front import pareto_front
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.hypervolume import Axis, hypervolume
from stitchc.evolve.nsga2 import nsga2
from stitchc.evolve.objectives import Evaluation, Evaluator, SplitKey, measure, split_keys, weights
from stitchc.evolve.program_genes import program_genes
from stitchc.evolve.racing import Racing
from stitchc.evolve.reference_point import reference_axes
from stitchc.evolve.run_store import RunStore, objectives_identity, search_identity
from stitchc.evolve.search_stats import SearchStats
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program, SearchSpec, StitchSpec
from stitchc.ir import Graph
from stitchc.ir.errors import ExecutionError
from stitchc.ir.samples import Samples
from stitchc.stitch.fit import FitError, fit_supernet
from stitchc.stitch.plan import StitchError, StitchPlan, auto_plans, explicit_plan, repair_cycles
from stitchc.stitch.points import PointError
from stitchc.stitch.similarity import CKA_SAMPLES, cka_similarity
from stitchc.stitch.supernet import Supernet, build_supernet

from .preflight import prepare
from .report import Columns, Row, table, write_run
from .report_html import render

STORE_FILE = "evaluations.sqlite"


class OutputError(Exception):
    """An output (the run folder, an exported model) cannot be written; the message names it and the cause."""


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
        for folder in [_out_dir(program, search, out), *_torch_dirs(program, search, out)]:
            _check_writable(folder)
    inputs = prepare(program)
    datasets, models = inputs.datasets, inputs.models
    outcomes = []
    for search in program.searches.values():
        out_dir = _out_dir(program, search, out)
        try:
            outcomes.append(run_search(program, search, datasets, models, out_dir, workers))
            _export_torch(outcomes[-1], _torch_dirs(program, search, out))
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
    program_part = program_genes(search.program, program.transforms, supernet.graph) if search.program else None
    space = GenomeSpace(supernet, program_part)
    searched = _evolve(program, search, space, datasets, out_dir, workers)
    front = pareto_front(searched.archive, weights(search.objectives))
    quality = searched.history[-1][2]
    log(
        f"search {search.name} ({search.algorithm}): {len(searched.archive)} distinct candidates evaluated, "
        f"{len(front)} on the front, hypervolume {quality:.4f} ({time.perf_counter() - started:.1f} s)"
    )
    return _export(program, search, datasets, searched, front, out_dir)


@dataclass
class _Searched:
    space: GenomeSpace
    parents: list[Evaluation]  # the parents' own evaluations, in the supernet's parent order
    axes: list[Axis]  # the hypervolume's fixed reference and ideal per objective
    archive: list[Evaluation]  # every distinct candidate evaluated
    history: list[tuple[int, int, float]]  # per generation: (generation, candidates evaluated, hypervolume)
    stats: SearchStats  # what the search's evaluations cost in this run


def _evolve(
    program: Program,
    search: SearchSpec,
    space: GenomeSpace,
    datasets: dict[str, Dataset],
    out_dir: str,
    workers: int | None,
) -> _Searched:
    """Evaluates the parents (the reference point depends on them), then runs the seeded search; evaluations
    come from and go to the run store."""
    objectives = search.objectives
    splits = {key: _readable(datasets, key, out_dir) for key in split_keys(objectives)}
    evaluate = Evaluator(
        space, objectives, splits, program.metrics, racing=Racing(search.racing) if search.racing else None
    )
    seeds = [space.parent_genome(i) for i in range(len(space.supernet.parents))] + [space.ensemble_genome()]
    samples = sum(len(split) for split in splits.values())
    workers = workers or auto_workers(space.supernet.graph.macs(), samples)
    store = _open_store(out_dir, space, program, objectives, splits, search.racing)
    try:
        evaluate.cache.update(store.load())
        reused = len(evaluate.cache)
        history: list[tuple[int, int, float]] = []
        started = time.perf_counter()
        with Executor(evaluate, workers, store) as executor:
            parents = executor.map(seeds[:-1])
            axes = reference_axes(objectives, program.metrics, splits, parents, space.supernet.graph)
            archive = nsga2(
                space.cardinalities,
                executor.map,
                search.population,
                search.generations,
                search.seed,
                space.sample,
                weights(objectives),
                seeds,
                report=_progress(search, axes, history),
            )
    finally:
        store.close()
    evaluate.stats.reused, evaluate.stats.seconds = reused, time.perf_counter() - started
    if reused:
        log(f"search {search.name}: {reused} evaluations reused from {STORE_FILE}")
    return _Searched(space, parents, axes, archive, history, evaluate.stats)


def _export(
    program: Program,
    search: SearchSpec,
    datasets: dict[str, Dataset],
    searched: _Searched,
    front: list[Evaluation],
    out_dir: str,
) -> SearchOutcome:
    """Measures the parents and the front on the test splits, writes the run folder, prints the table."""
    space = searched.space
    tests = _test_objectives(search.objectives, datasets, out_dir)
    parent_rows = [
        _row(space, program, tests, evaluation, f"parent {name}", name)[0]
        for evaluation, name in zip(searched.parents, space.supernet.parents)
    ]
    rows, exported = [], []
    for index, point in enumerate(front):
        row, model = _row(space, program, tests, point, f"front_{index:02d}.onnx", _parent_of(space, point))
        rows.append(row)
        exported.append(model)
    columns = Columns(search.objectives, searched.axes, tests[0])
    page = render(search.name, columns, searched.archive, parent_rows, rows, searched.history)
    path = write_run(
        out_dir, search.name, columns, parent_rows, rows, exported, searched.history, page, searched.stats.to_json()
    )
    print(table(columns, parent_rows, rows))
    log(f"wrote {path} and {len(rows)} ONNX models")
    return SearchOutcome(out_dir, parent_rows, rows)


def _open_store(
    out_dir: str,
    space: GenomeSpace,
    program: Program,
    objectives: tuple,
    splits: dict[SplitKey, Samples],
    racing: float | None = None,
) -> RunStore:
    layout = [[g.name, list(g.options)] for g in space.genes]
    if space.program is not None:  # what each step does, fixed parameters included
        layout.append([repr(t) for t in space.program.transforms])
    identity = search_identity(space.supernet.graph.to_onnx().SerializeToString(), layout)
    measured = objectives_identity(objectives, program.metrics, splits)
    measured += f"+racing={racing}" if racing else ""  # raced values are estimates: never mixed with others
    return RunStore(os.path.join(out_dir, STORE_FILE), identity, measured)


def _progress(search: SearchSpec, axes: list[Axis], history: list[tuple[int, int, float]]):
    """Records the archive's size and hypervolume after every generation (the anytime quality); logs them about
    ten times per search."""
    every = max(1, search.generations // 10)

    def report(generation: int, archive: list[Evaluation]) -> None:
        history.append((generation, len(archive), hypervolume(archive, axes)))
        if generation % every == 0 or generation == search.generations:
            log(
                f"  generation {generation}/{search.generations}: {len(archive)} evaluated, hypervolume {history[-1][2]:.4f}"
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
        plans = [(g, plan) for g in groups for plan in _plans(g, parents, fit_data[g.name], cache)]
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
        except (ExecutionError, RuntimeError, IndexError) as error:  # ORT, or torch refining on unfit labels
            cause = " ".join(str(error).split())[:300]
            message = f"cannot fit the stitches of '{group.name}': {cause}"
            raise SpecError([Diagnostic(program.file, group.span, message)], program.source) from None
    return supernet


def _fit_group(
    supernet: Supernet, parents: dict[str, Graph], group: StitchSpec, data: Samples, cache: str, own: set[str]
) -> None:
    """Closed-form fit of a group's stitches, then the optional SGD refinement it asks for."""
    errors = fit_supernet(supernet, parents, data, only=own)
    log(f"stitch {group.name}: {len(errors)} stitches fitted on {len(data)} samples" + _spread(errors, "feature MSE"))
    refine = group.refine
    if refine is None:
        return
    from stitchc.stitch.refine import refine_stitches  # torch loads only when a spec refines (1.5 s)
    from stitchc.stitch.task_refine import refine_on_task

    if refine.loss == "feature":
        errors = refine_stitches(supernet, parents, data, cache, refine.epochs, refine.lr, only=own)
        log(f"stitch {group.name}: refined on the feature MSE" + _spread(errors, "feature MSE"))
    else:
        losses = refine_on_task(supernet, data, None, refine.epochs, refine.lr, only=own)
        log(f"stitch {group.name}: refined on the task loss" + _spread(losses, "cross-entropy"))


def _spread(values: dict[str, float], what: str) -> str:
    return f" ({what} {min(values.values()):.3g} .. {max(values.values()):.3g})" if values else ""


def _plans(stitch: StitchSpec, parents: dict[str, Graph], data: Samples, cache: str) -> list[StitchPlan]:
    """Explicit points from the spec, or automatic matching (optionally weighted by linear CKA)."""
    if stitch.points is not None:
        return [
            explicit_plan(parents, p.source, p.source_path, p.target, p.target_path, stitch.resize)
            for p in stitch.points
        ]
    similarity = None
    if stitch.similarity == "cka":
        similarity = cka_similarity(parents[stitch.left], parents[stitch.right], data.take(CKA_SAMPLES), cache)
    return auto_plans(stitch.left, stitch.right, parents, similarity, stitch.resize)


def _test_objectives(objectives: tuple, datasets: dict[str, Dataset], out_dir: str):
    """The objectives measured on data, again on the test split of their data: (objectives, splits)."""
    tests = tuple({t.label: t for t in (o.on_split("test") for o in objectives if o.data is not None)}.values())
    return tests, {key: _readable(datasets, key, out_dir) for key in split_keys(tests)}


def _readable(datasets: dict[str, Dataset], key: SplitKey, out_dir: str) -> Samples:
    """The split every candidate reads: decoded once into the run's cache when reading it decodes files."""
    samples = datasets[key[0]].split(key[1])
    return spill(samples, os.path.join(out_dir, "cache"), "-".join(key)) if slow_to_read(samples) else samples


def _row(
    space: GenomeSpace, program: Program, tests: tuple, point: Evaluation, label: str, parent: str | None
) -> tuple[Row, onnx.ModelProto]:
    """Lowers the candidate, checks the ONNX model, and measures it on the test splits on exactly those bytes."""
    graph, steps = space.decode(point.genome)
    model = graph.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    test = measure(graph, tests[0], tests[1], program.metrics, model)
    choices = space.switch_choices(point.genome)
    return Row(label, point.genome, choices, point.values, test, point.macs, point.params, parent, tuple(steps)), model


def _parent_of(space: GenomeSpace, point: Evaluation) -> str | None:
    for which, name in enumerate(space.supernet.parents):
        if point.genome == space.parent_genome(which):
            return name
    return None


def _check_writable(out_dir: str) -> None:
    """Fails before any work (and without creating anything) when the run folder could not be written."""
    existing = os.path.abspath(out_dir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise OutputError(f"{out_dir}: cannot write the run folder ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: cannot write the run folder ({existing} is not writable)")


def _export_torch(outcome: SearchOutcome, folders: list[str]) -> None:
    """Writes a front_NN.pt2 beside each front_NN.onnx into every folder of an `as torch` export (torch is
    imported only then)."""
    if not folders:
        return
    from .export_torch import TorchExportError, export_front

    for folder in folders:
        try:
            export_front(outcome.out_dir, folder, [row.label for row in outcome.front])
        except TorchExportError as error:
            raise OutputError(str(error)) from None
        log(f"wrote {len(outcome.front)} torch.export programs (.pt2) to {folder}")


def _torch_dirs(program: Program, search: SearchSpec, out: str | None) -> list[str]:
    """The folders of the search's `as torch` exports; with `--out`, the run folder."""
    paths = [e.path for e in program.exports if e.search == search.name and e.format == "torch"]
    if out is not None:
        paths = [_out_dir(program, search, out)] if paths else []
    return list(dict.fromkeys(paths))


def _out_dir(program: Program, search: SearchSpec, out: str | None) -> str:
    exports = [e for e in program.exports if e.search == search.name]
    if out is not None:
        return out if len(program.searches) == 1 else os.path.join(out, search.name)
    return exports[0].path if exports else os.path.join(_spec_folder(program), "out", search.name)


def _spec_folder(program: Program) -> str:
    """Where the spec's relative paths start: its folder (the working directory for a spec without a file)."""
    return os.path.dirname(os.path.abspath(program.file)) if program.file != "<spec>" else os.getcwd()
