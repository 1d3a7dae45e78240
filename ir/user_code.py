"""Run a user's Python file (a torch module's class, a data function) as a module of its own."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType


def import_file(path: str, prefix: str) -> ModuleType:
    """The module executed from `path`, named `prefix` + a hash of the path (its classes and functions carry that
    name in `__module__`). Whatever the user's code raises propagates."""
    name = f"{prefix}{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
