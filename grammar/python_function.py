"""A function that a spec names as "file.py:function", loaded from the user's Python file."""

from __future__ import annotations

import os
import traceback

from .imports import _load


class FunctionLoadError(Exception):
    """The file cannot be executed, or defines no callable of that name; the message is the cause."""


def load_function(path: str, name: str):
    """The callable `name` of the Python file `path` (executed once per modification time).

    Raises FunctionLoadError with one line: the exception the file raised and where, or the missing name."""
    try:
        module = _load(path, os.path.getmtime(path))
    except Exception as error:  # noqa: BLE001 (user code may raise anything)
        frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        where = f" (line {frame.lineno})" if frame is not None and frame.filename == path else ""
        raise FunctionLoadError(f"cannot load{where}: {type(error).__name__}: {error}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise FunctionLoadError(f"defines no function '{name}'")
    return function
