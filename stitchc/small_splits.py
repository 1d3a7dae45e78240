"""Warn, before any work, when a stitch group asks to fit on more samples than its split holds.

The fit then uses the whole split (fewer samples than asked: noisier stitches), which is allowed but said, at
the stitch's line, once per group; an empty split is an error earlier (stitchc.data.check_splits)."""

from __future__ import annotations

import sys

from stitchc.grammar.diagnostics import Diagnostic
from stitchc.grammar.program import Program

from .data import Dataset


def small_fit_splits(program: Program, datasets: dict[str, Dataset]) -> list[Diagnostic]:
    """One warning per stitch group whose fit split (when loaded) has fewer samples than `samples =` asks."""
    warnings = []
    for group in program.stitches.values():
        if group.data not in datasets:
            continue
        available = len(datasets[group.data].split(group.split))
        if available < group.samples:
            message = (
                f"stitch '{group.name}' asks for {group.samples:,} fit samples but split '{group.split}' of data "
                f"'{group.data}' has {available:,}: it fits on those"
            )
            warnings.append(Diagnostic(program.file, group.span, message, severity="warning"))
    return warnings


def warn_small_splits(program: Program, datasets: dict[str, Dataset]) -> None:
    """Prints small_fit_splits' warnings (with the spec line) on stderr."""
    for warning in small_fit_splits(program, datasets):
        print(warning.render(program.source), file=sys.stderr, flush=True)
