"""The passes a pipeline can name: built-in Python passes, the rules of the shipped `std.stitch`, and the registry."""

from __future__ import annotations

import functools
import importlib
import os

from .base import REGISTRY

STD_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "std.stitch")
BUILTIN_MODULES = ("dce", "fold_constants", "remove_identity", "remove_dropout")


@functools.lru_cache(maxsize=1)
def load_builtins() -> None:
    """Imports the built-in pass modules (registering them) and registers the rules of std.stitch."""
    for module in BUILTIN_MODULES:
        importlib.import_module(f"stitchc.passes.{module}")
    from stitchc.grammar.checker import Checker
    from stitchc.grammar.parser import parse_file

    from .rules.rule_pass import register_rules

    register_rules(Checker(parse_file(STD_PATH), library=True).check())


def available_passes() -> list[str]:
    load_builtins()
    return sorted(REGISTRY)
