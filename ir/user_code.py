"""Run a user's Python file (a torch module's class, a data function) as a module of its own.

Running a user file executes its code with the user's rights: stitchc does this only for files a spec names
(`use`, `torch(...)`, `python(...)` data and metrics), and never under `stitchc check --no-exec`.
"""

from __future__ import annotations

import importlib.util
import os
import traceback
from types import ModuleType


class UserCodeError(Exception):
    """The user's code raised an exception, or exited, while stitchc ran it.

    `cause` is one line: `Type: message` (`SystemExit: the file called sys.exit(CODE)` for an exit); `line` is the line of the user's
    file the exception came from (its innermost frame in that file), or None when it came from elsewhere."""

    def __init__(self, path: str, error: BaseException):
        self.path, self.line = path, user_line(error, path)
        self.cause = describe(error)
        super().__init__(self.cause)

    @property
    def where(self) -> str:
        """` (line N)` when the line is known, else empty."""
        return f" (line {self.line})" if self.line is not None else ""


def import_file(path: str, prefix: str) -> ModuleType:
    """The module executed from `path`, named `prefix` + a hash of the path (its classes and functions carry that
    name in `__module__`). Anything the file raises at import, `sys.exit()` included, becomes UserCodeError;
    only KeyboardInterrupt (Ctrl-C) propagates as itself."""
    name = f"{prefix}{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 (SystemExit and the like must not end stitchc silently)
        raise UserCodeError(path, error) from None
    return module


def call_user(path: str, function, *args, **kwargs):
    """`function(*args, **kwargs)` where the function comes from the user's file `path`; anything it raises or
    exits with (but Ctrl-C) becomes UserCodeError naming the line of `path` it came from."""
    try:
        return function(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001
        raise UserCodeError(path, error) from None


def describe(error: BaseException) -> str:
    """One line for an exception raised by user code: `Type: first line of message` (the type alone when the
    message is empty); an exit names its code."""
    if isinstance(error, SystemExit):
        return f"SystemExit: the file called sys.exit({error.code!r})"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def user_line(error: BaseException, path: str) -> int | None:
    """The line of `path` nearest to where `error` was raised (its innermost frame in that file), or None."""
    target = os.path.abspath(path)
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    lines = [frame.lineno for frame in frames if os.path.abspath(frame.filename) == target]
    return lines[-1] if lines else None
