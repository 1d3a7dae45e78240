"""`import "file.stitch"` (declarations of another spec, cycles refused) and `use "passes.py"` (Python passes)."""

from __future__ import annotations

import functools
import os

from stitchc.ir.user_code import UserCodeError, import_file

from . import ast

MAX_IMPORT_DEPTH = 32  # files importing one another in a chain (cycles are refused separately)


def resolve(checker, path: ast.String, kind: str) -> str | None:
    full = os.path.normpath(os.path.join(checker.base, path.value))
    if not os.path.isfile(full):
        checker.error(path.span, f"{kind} file '{path.value}' not found", f"paths are relative to {checker.base}")
        return None
    return full


def import_spec(checker, decl: ast.ImportDecl) -> None:
    from .checker import Checker
    from .diagnostics import SpecError
    from .parser import parse_file

    full = resolve(checker, decl.path, "imported")
    if full is None:
        return
    if full in checker.stack:
        chain = " -> ".join(os.path.basename(p) for p in (*checker.stack[checker.stack.index(full) :], full))
        checker.error(decl.path.span, f"import cycle: {chain}")
        return
    if len(checker.stack) >= MAX_IMPORT_DEPTH:  # each level recurses through the parser and checker
        checker.error(decl.path.span, f"imports nest deeper than {MAX_IMPORT_DEPTH} files")
        return
    try:
        module = parse_file(full)
    except SpecError as error:
        checker.diagnostics += error.diagnostics
        checker.sources[full] = error.source
        return
    inner = Checker(module, library=True, stack=(*checker.stack, full), no_exec=checker.no_exec)
    program = inner.collect()
    checker.diagnostics += inner.diagnostics
    checker.sources.update(inner.sources, **{full: module.source})
    merge(checker, program, decl)


def merge(checker, imported, decl: ast.ImportDecl) -> None:
    """Adds every named declaration of an imported program; a name declared twice is an error at the import."""
    target = checker.program
    for field in ("data", "metrics", "models", "rules", "transforms", "pipelines"):
        for name, item in getattr(imported, field).items():
            if name in checker.taken():
                checker.error(decl.path.span, f"'{name}' from {decl.path.value} is already declared")
                continue
            getattr(target, field)[name] = item
    target.uses += [u for u in imported.uses if u not in target.uses]
    target.unexecuted += imported.unexecuted
    target.imports += [
        p
        for p in (*imported.imports, os.path.normpath(os.path.join(checker.base, decl.path.value)))
        if p not in target.imports
    ]


def use_passes(checker, decl: ast.UseDecl) -> None:
    full = resolve(checker, decl.path, "pass")
    if full is None:
        return
    if checker.no_exec:
        checker.skipped(decl.path.span, f'use "{decl.path.value}"')
        return
    try:
        _load(full, os.path.getmtime(full))
    except UserCodeError as error:  # user code may raise (or exit with) anything; report it at the `use`
        checker.error(decl.path.span, f"cannot load passes from '{decl.path.value}'{error.where}: {error.cause}")
        return
    if full not in checker.program.uses:
        checker.program.uses.append(full)


@functools.lru_cache(maxsize=64)
def _load(path: str, mtime: float):
    """Executes a Python file once per version and returns the module (a pass file's @register_pass
    decorators fill the registry; a metric file's functions are looked up on the module). Raises UserCodeError."""
    return import_file(path, f"stitchc_user_passes_{abs(hash(mtime))}_")
