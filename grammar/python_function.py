"""A function that a spec names as "file.py:function", loaded from the user's Python file."""

from __future__ import annotations

import os

from stitchc.ir.user_code import UserCodeError

from .imports import _load


class FunctionLoadError(Exception):
    """The file cannot be executed, or defines no callable of that name; the message is the cause."""


def load_function(path: str, name: str):
    """The callable `name` of the Python file `path` (executed once per modification time).

    Raises FunctionLoadError with one line: the exception the file raised (or its sys.exit) and where, or the
    missing name."""
    try:
        module = _load(path, os.path.getmtime(path))
    except UserCodeError as error:
        raise FunctionLoadError(f"cannot load{error.where}: {error.cause}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise FunctionLoadError(f"defines no function '{name}'")
    return function
