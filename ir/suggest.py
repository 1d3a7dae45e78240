"""Suggestions for a misspelt name: the one place that decides what "did you mean" says."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], otherwise: str | None = None, sigil: str = "") -> str | None:
    """`did you mean 'X'?` for the closest known name (shown with `sigil`, as in `%x`), else `otherwise`."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean '{sigil}{close[0]}'?" if close else otherwise
