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

from .store_options import add_store_options

EXIT_USAGE = 2


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


def _cores() -> int:
    return os.cpu_count() or 1


def _capped_workers(workers: int | None) -> int | None:
    """At most one worker per core: more only compete for the same cores (and each holds the supernet)."""
    if workers is not None and workers > _cores():
        print(f"stitchc: note: --workers {workers} capped at this machine's {_cores()} cores", file=sys.stderr)
        return _cores()
    return workers


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "inspect":
            return _inspect(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "passes":
            return _passes()
        return _run(args)
    except KeyboardInterrupt:
        print("stitchc: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stitchc", description="Recombine trained neural networks.")
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
    add_store_options(run)
    check = commands.add_parser(
        "check", help="check a spec without running it: names, types, and every parent's output against the metrics"
    )
    check.add_argument("spec", help="a .stitch file")
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
    return parser


def _run(args) -> int:
    """`check` parses, checks, loads every dataset and parent and checks that they fit; `run` does the same,
    then the work. Data that fails to read later (an unreadable image) and ONNX Runtime failures are one line."""
    from stitchc.ir.errors import ExecutionError

    try:
        program = load_program(args.spec)
        from stitchc.evolve.metrics.user import MetricError
        from stitchc.evolve.store_file import StoreError
        from stitchc.preflight import prepare
        from stitchc.run import OutputError, run_program
        from stitchc.run_lock import RunFolderError

        if args.command == "check":
            prepare(program)
            print(f"{args.spec}: ok")
            return 0
        try:
            run_program(program, args.out, _capped_workers(args.workers), args.storage, args.reset_store)
        except (OutputError, MetricError, DataError, RunFolderError, StoreError) as error:
            return _fail(error)
        except ExecutionError as error:
            return _fail(f"{args.spec}: {error}")
        return 0
    except SpecError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_USAGE


def _inspect(args) -> int:
    from stitchc.inspect import inspect_model
    from stitchc.ir import ModelLoadError

    try:
        print(inspect_model(args.model))
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
        print(error.render(), file=sys.stderr)
        return EXIT_USAGE
    except (ModelLoadError, ConvertError) as error:
        return _fail(error)


def _passes() -> int:
    from stitchc.grammar.std_library import load_std_library
    from stitchc.passes.registry import entries

    load_std_library()
    rows = [(e.name, e.kind, e.guarantee, e.summary) for e in entries()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0


def _fail(error: Exception) -> int:
    print(f"stitchc: error: {error}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
