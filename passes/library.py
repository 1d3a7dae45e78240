"""The built-in Python passes: importing their modules registers them. (The rules of the shipped
std.stitch are compiled and registered by grammar/std_library.py: passes know nothing of the language.)"""

from __future__ import annotations

import functools
import importlib

from .base import REGISTRY

BUILTIN_MODULES = ("dce", "fold_constants", "remove_identity", "remove_dropout")


@functools.lru_cache(maxsize=1)
def load_builtins() -> None:
    """Imports the built-in pass modules, which register themselves."""
    for module in BUILTIN_MODULES:
        importlib.import_module(f"stitchc.passes.{module}")


def available_passes() -> list[str]:
    """The names of every registered pass, sorted."""
    load_builtins()
    return sorted(REGISTRY)
