"""The main job: compile a checked program, fit its stitches, search, and export the Pareto front."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

import onnx

from stitchc.data import Dataset
from stitchc.data.spill import slow_to_read, spill
from stitchc.evolve.activation_cache import BUDGET_BYTES as CACHE_BYTES
from stitchc.evolve.algorithm import Problem
from stitchc.evolve.algorithms import make_algorithm
from stitchc.evolve.candidate_training import CandidateTraining
from stitchc.evolve.executor import Executor, auto_workers
from stitchc.evolve.front import pareto_front
from stitchc.evolve.genome_space import GenomeSpace
from stitchc.evolve.growth import grow
from stitchc.evolve.hypervolume import Axis, hypervolume
from stitchc.evolve.objectives import Evaluation, Evaluator, SplitKey, measure, split_keys, weights
from stitchc.evolve.pause_points import pause_point
from stitchc.evolve.program_genes import program_genes
from stitchc.evolve.racing import Racing
from stitchc.evolve.reference_point import reference_axes
from stitchc.evolve.run_store import RunStore, check_store, objectives_identity, search_identity
from stitchc.evolve.search_loop import SearchResult, search_run_key
from stitchc.evolve.search_loop import search as run_algorithm
from stitchc.evolve.search_stats import SearchStats
from stitchc.evolve.store_file import move_aside
from stitchc.grammar.diagnostics import Diagnostic, SpecError
from stitchc.grammar.program import Program, SearchSpec, StitchSpec
from stitchc.ir import Graph
from stitchc.ir.errors import ExecutionError
from stitchc.ir.samples import Samples
from stitchc.stitch.feature_cache import remove_partial_files
from stitchc.stitch.fit import FitError, fit_supernet
from stitchc.stitch.plan import StitchError, StitchPlan, auto_plans, explicit_plan, repair_cycles
from stitchc.stitch.points import PointError
from stitchc.stitch.similarity import CKA_SAMPLES, cka_similarity
from stitchc.stitch.supernet import Supernet, build_supernet, model_supernet

from .folder_swap import check_publishable, recover
from .preflight import prepare
from .progress import current, generation_record
from .report import Columns, Row, row_json, table, write_run
from .report_html import render
from .run_lock import RunLocks

STORE_FILE = "evaluations.sqlite"


class OutputError(Exception):
    """An output (the run folder, an exported model) cannot be written; the message names it and the cause."""


@dataclass
class SearchOutcome:
    out_dir: str
    parents: list[Row]
    front: list[Row]


def log(message: str) -> None:
    current().note(message)


def run_program(
    program: Program,
    out: str | None = None,
    workers: int | None = None,
    storage: str | None = None,
    reset_store: bool = False,
    make_executor=Executor,
    activation_cache: int | None = None,
) -> list[SearchOutcome]:
    """Runs every search of the program; `out` overrides the export directory; `workers` processes evaluate
    candidates (None: chosen from the cost of an evaluation); `storage` is the store file every search shares
    (None: each run folder's own); `reset_store` moves the stores aside first; `make_executor(evaluator,
    workers, store)` makes the executor (the local pool by default; stitchc.executors chooses);
    `activation_cache` bounds the bytes of activations kept across batches (None: the default)."""
    folders = [f for s in program.searches.values() for f in [_out_dir(program, s, out), *_torch_dirs(program, s, out)]]
    for folder in folders:
        _check_writable(folder)
    with RunLocks(folders):  # a second run into these folders stops here, touching nothing
        return _run_locked(program, folders, out, workers, storage, reset_store, make_executor, activation_cache)


def _run_locked(
    program: Program,
    folders: list[str],
    out: str | None,
    workers: int | None,
    storage: str | None,
    reset: bool,
    make_executor,
    activation_cache: int | None,
) -> list[SearchOutcome]:
    for folder in folders:
        try:
            check_publishable(folder)
            recover(folder)  # a publish a killed run left half done
        except OSError as error:
            raise _cannot_write(error, folder) from None
    stores = [storage or os.path.join(_out_dir(program, s, out), STORE_FILE) for s in program.searches.values()]
    for path in dict.fromkeys(stores) if reset else ():
        if aside := move_aside(path):
            log(f"moved the store {path} aside to {aside}; starting afresh")
    for path in dict.fromkeys(stores):
        check_store(path)  # a damaged store stops the run before any work
    current().phase_start("load", "loading data and parents")
    inputs = prepare(program)
    current().phase_end(f"loaded {_count(inputs.datasets, 'data set')} and {_count(inputs.models, 'parent')}")
    datasets, models = inputs.datasets, inputs.models
    outcomes = []
    for search in program.searches.values():
        out_dir = _out_dir(program, search, out)
        try:
            outcome = run_search(
                program, search, datasets, models, out_dir, workers, storage, make_executor, activation_cache
            )
            outcomes.append(outcome)
            _export_torch(outcome, _torch_dirs(program, search, out))
        except OSError as error:  # the run folder or its cache cannot be written (disk full, permissions...)
            raise _cannot_write(error, out_dir) from None
    return outcomes


def _cannot_write(error: OSError, folder: str) -> OutputError:
    """One line: the file (or else the folder) and the system's cause (no space left, read-only, ...)."""
    return OutputError(f"{error.filename or folder}: cannot write ({error.strerror or error})")


def run_search(
    program: Program,
    search: SearchSpec,
    datasets: dict[str, Dataset],
    models: dict[str, Graph],
    out_dir: str,
    workers: int | None = None,
    storage: str | None = None,
    make_executor=Executor,
    activation_cache: int | None = None,
) -> SearchOutcome:
    if search.model is not None:
        supernet = model_supernet(search.model, models[search.model])
    else:
        groups = [program.stitches[name] for name in search.over]
        supernet = compile_supernet(program, search, groups, datasets, models, out_dir)
    program_part = program_genes(search.program, program.transforms, supernet.graph) if search.program else None
    space = GenomeSpace(supernet, program_part, _training(search, datasets, out_dir))
    searched = _evolve(program, search, space, datasets, out_dir, workers, storage, make_executor, activation_cache)
    front = pareto_front(searched.archive, weights(search.objectives))
    quality = searched.history[-1][2]
    current().phase_end(
        f"search {search.name} ({search.algorithm}): {len(searched.archive)} distinct candidates evaluated, "
        f"{len(front)} on the front, hypervolume {quality:.4f}"
    )
    return _export(program, search, datasets, searched, front, out_dir)


@dataclass
class _Searched:
    space: GenomeSpace
    parents: list[Evaluation]  # the parents' own evaluations, in the supernet's parent order
    axes: list[Axis]  # the hypervolume's fixed reference and ideal per objective
    archive: list[Evaluation]  # every distinct candidate evaluated
    history: list[tuple[int, int, float]]  # per generation: (generation, candidates evaluated, hypervolume)
    anytime: list[tuple[int, int, float]]  # where the hypervolume rose: (candidates evaluated, generation, value)
    stats: SearchStats  # what the search's evaluations cost in this run


def _evolve(
    program: Program,
    search: SearchSpec,
    space: GenomeSpace,
    datasets: dict[str, Dataset],
    out_dir: str,
    workers: int | None,
    storage: str | None = None,
    make_executor=Executor,
    activation_cache: int | None = None,
) -> _Searched:
    """Evaluates the parents (the reference point depends on them), then runs the seeded search; evaluations
    come from and go to the run store."""
    objectives = search.objectives
    splits = {key: _readable(datasets, key, out_dir) for key in split_keys(objectives)}
    racing = Racing(search.racing) if search.racing else None
    # a trained candidate shares no weights with others, and every worker would train it again: evaluated whole
    shared = search.train is None
    cache = CACHE_BYTES if activation_cache is None else activation_cache
    evaluate = Evaluator(space, objectives, splits, program.metrics, shared=shared, racing=racing, cache_bytes=cache)
    seeds = [space.parent_genome(i) for i in range(len(space.supernet.parents))] + [space.ensemble_genome()]
    samples = sum(len(split) for split in splits.values())
    workers = workers or auto_workers(space.supernet.graph.macs(), samples)
    store = _open_store(storage or os.path.join(out_dir, STORE_FILE), space, program, objectives, splits, search.racing)
    current().phase_start("search", f"search {search.name}", search.budget or (search.generations or 0) + 1)
    try:
        evaluate.cache.update(store.load())
        reused = len(evaluate.cache)
        started = time.perf_counter()
        with make_executor(evaluate, workers, store) as executor:
            parents = executor.map(seeds[:-1])
            steps = search.train.steps if search.train else 0
            axes = reference_axes(objectives, program.metrics, splits, parents, space.supernet.graph, steps)
            if search.growth is not None:
                result = _grow(search, space, executor.map, axes)
            else:
                problem = Problem(space.cardinalities, space.sample, weights(objectives), search.population, seeds)
                problem.key, problem.axes = evaluate.key, axes
                result = _run_algorithm(search, problem, executor.map, store)
    finally:
        store.close()
    evaluate.stats.reused, evaluate.stats.seconds = reused, time.perf_counter() - started
    if reused:
        log(f"search {search.name}: {reused} evaluations reused from {os.path.basename(store.path)}")
    return _Searched(space, parents, axes, result.archive, result.history, result.anytime, evaluate.stats)


def _grow(search: SearchSpec, space: GenomeSpace, evaluate, axes: list[Axis]) -> SearchResult:
    """The growth search (evolve/growth.py), with the hypervolume recorded after each step."""
    history: list[tuple[int, int, float]] = []
    report = _progress(search)

    def step(generation: int, archive: list[Evaluation]) -> None:
        history.append((generation, len(archive), hypervolume(archive, axes)))
        report(generation, archive, history[-1][2])

    archive = grow(space, evaluate, weights(search.objectives), search.growth, step)
    return SearchResult(archive, history, [(n, g, v) for g, n, v in history], len(history), None, "growth stopped")


def _run_algorithm(search: SearchSpec, problem: Problem, evaluate, store: RunStore) -> SearchResult:
    """The spec's algorithm under its budget, checkpointed in the run store (a rerun continues from it)."""
    generations = None if search.algorithm == "random" else search.generations
    checkpoint = store.checkpoint(
        search_run_key(search.algorithm, search.population, generations, search.budget, search.seed)
    )
    algorithm = make_algorithm(search.algorithm, search.budget)
    report = _progress(search)
    result = run_algorithm(algorithm, problem, evaluate, search.seed, generations, search.budget, checkpoint, report)
    if result.resumed_from is not None:
        done = "finished search reopened" if result.stepped == 0 else f"{result.stepped} generations run since"
        log(f"search {search.name}: resumed from the checkpoint of generation {result.resumed_from} ({done})")
    return result


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
    current().phase_start("export", "measuring the front on the test split", len(front))
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
        current().advance()
    columns = Columns(search.objectives, searched.axes, tests[0])
    page = render(
        search.name, columns, searched.archive, parent_rows, rows, searched.history, exported, (), searched.anytime
    )
    path = write_run(
        out_dir,
        search.name,
        columns,
        parent_rows,
        rows,
        exported,
        searched.history,
        page,
        searched.anytime,
        searched.stats.to_json(),
    )
    current().phase_end(f"measured {len(rows)} front models on the test split")
    files = [path, os.path.join(out_dir, "report.html"), *(os.path.join(out_dir, row.label) for row in rows)]
    current().summary(table(columns, parent_rows, rows), files, [row_json(row, columns) for row in rows])
    return SearchOutcome(out_dir, parent_rows, rows)


def _open_store(
    path: str,
    space: GenomeSpace,
    program: Program,
    objectives: tuple,
    splits: dict[SplitKey, Samples],
    racing: float | None = None,
) -> RunStore:
    layout = [[g.name, list(g.options)] for g in space.genes]
    if space.program is not None:  # what each step does, fixed parameters included
        layout.append([repr(t) for t in space.program.transforms])
    if space.training is not None:  # trained candidates are other candidates
        layout.append(repr(replace(space.training.spec, span=None)))
    identity = search_identity(space.supernet.graph.to_onnx().SerializeToString(), layout)
    measured = objectives_identity(objectives, program.metrics, splits)
    measured += f"+racing={racing}" if racing else ""  # raced values are estimates: never mixed with others
    return RunStore(path, identity, measured)


def _progress(search: SearchSpec):
    """Tells the live view after every generation: the candidates evaluated, the best of each objective, the
    hypervolume."""

    def report(generation: int, archive: list[Evaluation], value: float) -> None:
        record = generation_record(generation, search.generations, archive, search.objectives, value, search.budget)
        current().generation(record)

    return report


def compile_supernet(
    program: Program,
    search: SearchSpec,
    groups: list[StitchSpec],
    datasets: dict[str, Dataset],
    models: dict[str, Graph],
    out_dir: str,
) -> Supernet:
    """Plans, builds and fits the supernetwork of one or more stitch groups (nothing kept on disk).

    Each group is matched and fitted with its own settings; with several groups, pairs of later groups are
    dropped while the merge of all parents has a cycle."""
    names = list(dict.fromkeys(name for g in groups for name in (g.left, g.right)))
    parents = {name: models[name] for name in names}
    cache = os.path.join(out_dir, "cache")
    if os.path.isdir(cache):
        remove_partial_files(cache)  # left by a killed run
    fit_data = {g.name: datasets[g.data].split(g.split).take(g.samples) for g in groups}
    current().phase_start("plan", "matching the parents' layers")
    try:
        plans = [(g, plan) for g in groups for plan in _plans(g, parents, fit_data[g.name])]
        kept = {id(p) for p in repair_cycles(parents, [p for _, p in plans])}
        plans = [(g, p) for g, p in plans if id(p) in kept]
        supernet = build_supernet(parents, [p for _, p in plans], any(g.resize for g in groups))
    except (StitchError, PointError) as error:
        span = groups[0].span if len(groups) == 1 else search.span
        raise SpecError([Diagnostic(program.file, span, str(error))], program.source) from None
    current().phase_end(f"matched {len(plans)} stitch point pairs")
    for group in groups:
        own = {p.name for g, p in plans if g is group}
        try:
            _fit_group(supernet, parents, group, fit_data[group.name], own)
        except FitError as error:
            raise SpecError([Diagnostic(program.file, group.span, str(error))], program.source) from None
        except (ExecutionError, RuntimeError, IndexError) as error:  # ORT, or torch refining on unfit labels
            cause = " ".join(str(error).split())[:300]
            message = f"cannot fit the stitches of '{group.name}': {cause}"
            raise SpecError([Diagnostic(program.file, group.span, message)], program.source) from None
    return supernet


def _fit_group(supernet: Supernet, parents: dict[str, Graph], group: StitchSpec, data: Samples, own: set[str]) -> None:
    """Closed-form fit of a group's stitches, then the optional SGD refinement it asks for."""
    pause_point("fit")  # tests kill the run here
    current().phase_start("fit", f"fitting the stitches of {group.name}", len(data))
    errors = fit_supernet(supernet, parents, data, only=own, on_batch=current().advance)
    current().phase_end(
        f"stitch {group.name}: {len(errors)} stitches fitted on {len(data)} samples" + _spread(errors, "feature MSE")
    )
    refine = group.refine
    if refine is None:
        return
    from stitchc.stitch.refine import refine_stitches  # torch loads only when a spec refines (1.5 s)
    from stitchc.stitch.task_refine import refine_on_task

    current().phase_start("refine", f"refining the stitches of {group.name}")
    if refine.loss == "feature":
        errors = refine_stitches(supernet, parents, data, refine.epochs, refine.lr, only=own)
        current().phase_end(f"stitch {group.name}: refined on the feature MSE" + _spread(errors, "feature MSE"))
    else:
        losses = refine_on_task(supernet, data, None, refine.epochs, refine.lr, only=own)
        current().phase_end(f"stitch {group.name}: refined on the task loss" + _spread(losses, "cross-entropy"))


def _count(things, word: str) -> str:
    return f"{len(things)} {word}{'s' if len(things) != 1 else ''}"


def _spread(values: dict[str, float], what: str) -> str:
    return f" ({what} {min(values.values()):.3g} .. {max(values.values()):.3g})" if values else ""


def _plans(stitch: StitchSpec, parents: dict[str, Graph], data: Samples) -> list[StitchPlan]:
    """Explicit points from the spec, or automatic matching (optionally weighted by linear CKA)."""
    if stitch.points is not None:
        return [
            explicit_plan(parents, p.source, p.source_path, p.target, p.target_path, stitch.resize)
            for p in stitch.points
        ]
    similarity = None
    if stitch.similarity == "cka":
        similarity = cka_similarity(parents[stitch.left], parents[stitch.right], data.take(CKA_SAMPLES))
    return auto_plans(stitch.left, stitch.right, parents, similarity, stitch.resize)


def _test_objectives(objectives: tuple, datasets: dict[str, Dataset], out_dir: str):
    """The objectives measured on data, again on the test split of their data: (objectives, splits)."""
    tests = tuple({t.label: t for t in (o.on_split("test") for o in objectives if o.data is not None)}.values())
    return tests, {key: _readable(datasets, key, out_dir) for key in split_keys(tests)}


def _training(search: SearchSpec, datasets: dict[str, Dataset], out_dir: str) -> CandidateTraining | None:
    if search.train is None:
        return None
    return CandidateTraining(search.train, _readable(datasets, (search.train.data, search.train.split), out_dir))


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
