"""The morphism and mutation implementations that declarations may name (`= net2wider`, ...)."""

from __future__ import annotations

import functools
import importlib

from .transform_base import IMPLEMENTATIONS

MODULES = ("net2wider", "net2deeper", "grow_units", "kernel_grow", "sparse_gaussian")


@functools.lru_cache(maxsize=1)
def load_implementations() -> None:
    for module in MODULES:
        importlib.import_module(f"stitchc.passes.{module}")


def known(kind: str) -> tuple[str, ...]:
    """Names of the implementations of a kind ("morphism" or "mutation")."""
    load_implementations()
    return tuple(sorted(name for name, impl in IMPLEMENTATIONS.items() if impl.kind == kind))
