"""The shipped rule library, `passes/std.stitch`: compiled once and registered as passes.

The pass registry lives in passes/ and knows nothing of the language; this module fills it with the
std.stitch rules. `get_pass` and `available_passes` here are the registry's, with those rules loaded
first: use them wherever a pass may be a shipped rule.
"""

from __future__ import annotations

import functools
from importlib import resources

from stitchc.passes import base
from stitchc.passes.registry import names
from stitchc.passes.rules.rule_pass import register_rule

from .program import Program

STD_PATH = str(resources.files("stitchc.passes") / "std.stitch")


def register_rules(program: Program) -> None:
    """Registers every rule of a checked program as a pass under its name."""
    for rule in program.rules.values():
        register_rule(rule)


@functools.lru_cache(maxsize=1)
def load_std_library() -> None:
    """Compiles std.stitch and registers its rules (once per process)."""
    from .checker import Checker  # the checker asks this module for the known passes
    from .parser import parse_file

    register_rules(Checker(parse_file(STD_PATH), library=True).check())


def get_pass(name: str) -> base.PassBase:
    """A fresh instance of the registered pass `name`, std.stitch rules included; KeyError if unknown."""
    load_std_library()
    return base.get_pass(name)


def available_passes() -> list[str]:
    """The names of every registered pass, std.stitch rules included, sorted."""
    load_std_library()
    return list(names("pass"))
