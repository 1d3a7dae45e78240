"""The `stitchc` command line: `run`, `check`, `inspect`, `convert`, `passes`.

Bad input gives located one-line errors and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from stitchc.data import DataError
from stitchc.grammar.checker import load_program
from stitchc.grammar.diagnostics import SpecError
from stitchc.ir.printable import printable

from .store_options import add_store_options

EXIT_USAGE = 2
RESUMES = "; run the same command again to resume: the evaluations made so far are kept in the run folder"


MAX_WORKERS = 1024  # beyond any machine's cores: a larger count is a typo, never a request


def _workers(text: str) -> int:
    """A worker count: a positive integer, at most MAX_WORKERS (the run caps it at the cores, and says so)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text[:40]}'")
    if int(text) > MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"{text[:40]} workers is more than {MAX_WORKERS}; this machine has {_cores()} cores"
        )
    return int(text)


def _memory(text: str) -> int:
    """A size in bytes from '2G', '512M', '64K' or a plain number of bytes; 0 allowed."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    digits, unit = (text[:-1], units[text[-1].upper()]) if text[-1:].upper() in units else (text, 1)
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"expected a size such as 2G, 512M or 0, got '{printable(text[:40])}'")
    return int(digits) * unit


def _cores() -> int:
    return os.cpu_count() or 1


def _capped_workers(workers: int | None) -> int | None:
    """At most one worker per core: more only compete for the same cores (and each holds the supernet)."""
    if workers is not None and workers > _cores():
        print(f"stitchc: note: --workers {workers} capped at this machine's {_cores()} cores", file=sys.stderr)
        return _cores()
    return workers


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "address", None) and args.executor != "ray":
        parser.error("--address needs --executor ray")
    try:
        if args.command == "inspect":
            return _inspect(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "passes":
            return _passes()
        if args.command in ("report", "show"):
            return _run_folder(args)
        return _run(args)
    except KeyboardInterrupt:
        print(f"stitchc: interrupted{RESUMES if args.command == 'run' else ''}", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stitchc", description="Recombine trained neural networks.")
    parser.add_argument("--version", action="version", version=f"stitchc {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fit the stitches, search, and export the Pareto front")
    run.add_argument("spec", help="a .stitch file")
    run.add_argument("--out", help="output directory (overrides the spec's export directory)")
    run.add_argument(
        "--workers",
        type=_workers,
        help="processes that evaluate candidates (default: one, or every "
        "core when an evaluation is expensive; the front is the same whatever the number)",
    )
    run.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help='where candidates are evaluated: local processes, or a Ray cluster (pip install "stitchc[ray]"); '
        "the front is the same",
    )
    run.add_argument("--address", help="with --executor ray: the cluster's HOST:PORT (default: a local cluster)")
    run.add_argument(
        "--activation-cache",
        type=_memory,
        metavar="SIZE",
        help="memory for activations that later candidates reuse instead of recomputing (default: 2G, shared by "
        "the workers; 0: none); the front is the same",
    )
    _view_options(run)
    add_store_options(run)
    check = commands.add_parser(
        "check",
        help="check a spec without running it: names, types, and every parent's output against the metrics",
        description="Check a spec before any work. This executes the Python files the spec names (`use` files, "
        'torch("file.py:Class") modules, python(...) data and metrics) with your rights: see docs/security.md.',
    )
    check.add_argument("spec", help="a .stitch file")
    check.add_argument(
        "--no-exec",
        action="store_true",
        help="execute no user Python file: check everything else, and note each line left unexecuted",
    )
    inspect = commands.add_parser("inspect", help="inputs, outputs, ops, MACs, params and stitch points of a model")
    inspect.add_argument("model", help="an .onnx file")
    convert = commands.add_parser("convert", help="import a model, run passes, lower it to ONNX again")
    convert.add_argument("model", help="an .onnx file")
    convert.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    convert.add_argument("--opset", type=int, help="lower to this default-domain opset version")
    convert.add_argument("--passes", default="", help="comma-separated registered pass names, run in order")
    convert.add_argument("--spec", help="a .stitch file whose pipeline runs after --passes")
    convert.add_argument("--pipeline", help="which pipeline of --spec (needed when it declares several)")
    commands.add_parser("passes", help="list the registered passes, morphisms and mutations with their guarantees")
    report = commands.add_parser("report", help="write a run folder's report.html again (no spec needed)")
    report.add_argument("run_dir", metavar="RUN_DIR", help="the folder a run wrote (front.json, front_NN.onnx)")
    show = commands.add_parser("show", help="print a run folder's front table again")
    show.add_argument("run_dir", metavar="RUN_DIR", help="the folder a run wrote (front.json)")
    return parser


def _version() -> str:
    from stitchc.metadata import stitchc_version

    return stitchc_version()


def _view_options(run: argparse.ArgumentParser) -> None:
    """How a run shows its progress, and where it evaluates."""
    view = run.add_mutually_exclusive_group()
    view.add_argument("--quiet", action="store_true", help="show no progress, only the front table and errors")
    view.add_argument("--json", action="store_true", help="print progress events as JSON objects, one per line")
    run.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help="where ONNX Runtime evaluates and torch trains (default: cpu; cuda falls back to cpu, and says so)",
    )


def _run(args) -> int:
    """`check` parses, checks, loads every dataset and parent and checks that they fit; `run` does the same,
    then the work. Data that fails to read later (an unreadable image) and ONNX Runtime failures are one line."""
    from stitchc.ir.errors import ExecutionError, FineTuneError

    try:
        no_exec = args.command == "check" and args.no_exec
        program = load_program(args.spec, no_exec)
        from stitchc.evolve.metrics.user import MetricError
        from stitchc.evolve.ray_executor import RayError
        from stitchc.evolve.store_file import StoreError
        from stitchc.executors import executor_factory
        from stitchc.preflight import prepare, unexecuted_report
        from stitchc.progress import choose, use
        from stitchc.run import OutputError, run_program
        from stitchc.run_lock import RunFolderError

        if args.command == "check":
            prepare(program, no_exec)
            print(unexecuted_report(program), end="", file=sys.stderr)
            ok = f"{args.spec}: ok" + (f" ({len(program.unexecuted)} not executed)" if program.unexecuted else "")
            print(printable(ok))
            return 0
        try:
            workers = args.workers if args.address else _capped_workers(args.workers)
            with (
                use(choose(args.quiet, args.json)) as view,
                executor_factory(args.executor, args.address, workers) as make,
            ):
                view.start(f"stitchc {_version()}: running {args.spec}")
                _choose_device(args.device)
                run_program(program, args.out, workers, args.storage, args.reset_store, make, args.activation_cache)
        except (OutputError, MetricError, DataError, RayError, RunFolderError, StoreError) as error:
            return _fail(error)
        except (ExecutionError, FineTuneError) as error:
            return _fail(f"{args.spec}: {error}")
        return 0
    except SpecError as error:
        print(printable(error.render(), lines=True), file=sys.stderr)
        return EXIT_USAGE


def _choose_device(device: str | None) -> None:
    """--device: ONNX Runtime's providers and torch's device follow STITCHC_DEVICE (worker processes inherit
    it); asking for CUDA where it cannot load says why, in one line, and the run goes on on the CPU."""
    if device is None:
        return
    os.environ["STITCHC_DEVICE"] = device
    from stitchc.ir.runtime import cuda_problem

    problem = cuda_problem() if device == "cuda" else None
    if problem:
        print(f"stitchc: note: --device cuda: {problem}; running on the CPU", file=sys.stderr, flush=True)


def _inspect(args) -> int:
    from stitchc.inspect import inspect_model
    from stitchc.ir import ModelLoadError

    try:
        print(inspect_model(args.model))  # every line escaped by inspect_model
        return 0
    except ModelLoadError as error:
        return _fail(error)


def _convert(args) -> int:
    from stitchc.convert import ConvertError, convert
    from stitchc.grammar.pipelines import passes_from_spec
    from stitchc.ir import ModelLoadError

    passes = [name.strip() for name in args.passes.split(",") if name.strip()]
    try:
        pipeline = passes_from_spec(args.spec, args.pipeline) if args.spec else None
        convert(args.model, args.output, args.opset, passes, pipeline)
        return 0
    except SpecError as error:
        print(printable(error.render(), lines=True), file=sys.stderr)
        return EXIT_USAGE
    except (ModelLoadError, ConvertError) as error:
        return _fail(error)


def _run_folder(args) -> int:
    """`report` and `show`: a finished run folder, read back (stitchc/run_folder.py)."""
    from stitchc.report import table
    from stitchc.run_folder import RunFolderError, load_run, rewrite_report

    try:
        if args.command == "report":
            print(f"wrote {rewrite_report(args.run_dir)}")
        else:
            run = load_run(args.run_dir)
            print(table(run.columns, run.parents, run.front))
        return 0
    except RunFolderError as error:
        return _fail(error)


def _passes() -> int:
    from stitchc.grammar.std_library import load_std_library
    from stitchc.passes.registry import entries

    load_std_library()
    rows = [(e.name, e.kind, e.guarantee, e.summary) for e in entries()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(printable("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]))
    return 0


def _fail(error: Exception) -> int:
    print(f"stitchc: error: {printable(error)}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
