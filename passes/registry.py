"""One registry for everything a pipeline or a program gene can name: passes, morphisms and mutations.

It is filled by discovery, never by a hand-written list: `discover()` imports every module of the
`stitchc.passes` package (subpackages included) once, and the decorators in those modules register what they
define. Users register with `@stitchc.register_pass` and `@stitchc.register_transform`; the language registers
the rules it compiles (`grammar/`). A name names one thing: registering a name again replaces the entry (a
pass file reloaded after an edit), whatever its kind.

Every entry states its kind and its guarantee (exact / approximate / none), which `stitchc passes` lists.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from dataclasses import dataclass

KINDS = ("pass", "morphism", "mutation")
GUARANTEES = ("exact", "approximate", "none")


@dataclass(frozen=True)
class Entry:
    """A registered name: its kind, its guarantee, one line of documentation, and what it builds or applies.

    For a pass, `target` is a factory `() -> PassBase`; for a morphism or mutation, an `Implementation`.
    """

    name: str
    kind: str
    guarantee: str
    summary: str
    target: object


ENTRIES: dict[str, Entry] = {}


def register(entry: Entry) -> None:
    if entry.kind not in KINDS:
        raise ValueError(f"{entry.name}: kind '{entry.kind}' is not one of {', '.join(KINDS)}")
    if entry.guarantee not in GUARANTEES:
        raise ValueError(f"{entry.name}: guarantee '{entry.guarantee}' is not one of {', '.join(GUARANTEES)}")
    ENTRIES[entry.name] = entry


def summary_of(target) -> str:
    """The first line of the docstring of a class or function (its own, not inherited), else of its module."""
    doc = (target.__doc__ or inspect.getmodule(target).__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


@functools.cache
def discover(package: str = "stitchc.passes") -> None:
    """Imports every module of `package` and its subpackages once; their decorators fill the registry."""
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        importlib.import_module(module.name)


def entries(kind: str | None = None) -> list[Entry]:
    """Every registered entry (of one kind), sorted by name; the package's own modules are discovered first."""
    discover()
    return sorted((e for e in ENTRIES.values() if kind in (None, e.kind)), key=lambda e: e.name)


def lookup(name: str, kinds: tuple[str, ...]) -> Entry:
    """The entry `name` of one of `kinds`, or KeyError naming what is known."""
    discover()
    entry = ENTRIES.get(name)
    if entry is None or entry.kind not in kinds:
        known = ", ".join(e.name for e in entries() if e.kind in kinds)
        raise KeyError(f"no {' or '.join(kinds)} named '{name}' (known: {known})")
    return entry


def names(kind: str) -> tuple[str, ...]:
    return tuple(e.name for e in entries(kind))
