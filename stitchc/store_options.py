"""`stitchc run`'s options for the run store: where it is (`--storage`) and moving a damaged one aside
(`--reset-store`)."""

from __future__ import annotations

import argparse

from stitchc.evolve.store_file import storage_path


def _storage(url: str) -> str:
    try:
        return storage_path(url)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage",
        type=_storage,
        metavar="sqlite:///PATH",
        help="one SQLite store that several runs share (Optuna's URL convention: sqlite:///relative/study.db, "
        "sqlite:////absolute/study.db); evaluations are keyed by search and objectives, so runs of other specs "
        "never mix (default: evaluations.sqlite in the run folder)",
    )
    parser.add_argument(
        "--reset-store",
        action="store_true",
        help="move the store aside (renamed evaluations.sqlite.damaged-YYYYmmdd-HHMMSS) and start afresh: "
        "for a store stitchc reports as damaged",
    )
