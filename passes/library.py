"""The passes a pipeline can name: built-in Python passes, the rules of the shipped `std.stitch`, and the registry."""

from __future__ import annotations

import functools
import os

from .registry import discover, names

STD_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "std.stitch")


@functools.lru_cache(maxsize=1)
def load_builtins() -> None:
    """Imports the built-in pass modules (registering them) and registers the rules of std.stitch."""
    discover()
    from stitchc.grammar.checker import Checker
    from stitchc.grammar.parser import parse_file

    from .rules.rule_pass import register_rules

    register_rules(Checker(parse_file(STD_PATH), library=True).check())


def available_passes() -> list[str]:
    load_builtins()
    return list(names("pass"))
