"""The `stitchc` command line: `run` and `check`. Bad input gives located one-line errors and exit status 2."""
from __future__ import annotations

import argparse
import sys

from stitchc.data import DataError
from stitchc.grammar.checker import load_program
from stitchc.grammar.diagnostics import SpecError

EXIT_USAGE = 2


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stitchc", description="Recombine trained neural networks.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fit the stitches, search, and export the Pareto front")
    run.add_argument("spec", help="a .stitch file")
    run.add_argument("--out", help="output directory (overrides the spec's export directory)")
    run.add_argument("--workers", type=_positive, default=1, help="processes that evaluate candidates (default 1)")
    check = commands.add_parser("check", help="parse and check a spec without running it")
    check.add_argument("spec", help="a .stitch file")
    args = parser.parse_args(argv)
    try:
        program = load_program(args.spec)
        if args.command == "check":
            print(f"{args.spec}: ok")
            return 0
        from stitchc.run import run_program

        run_program(program, args.out, args.workers)
        return 0
    except SpecError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_USAGE
    except DataError as error:
        print(f"{args.spec}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stitchc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
