"""Morphisms and mutations as program genes: an implementation applies to one candidate graph.

An implementation gets the graph (a fresh candidate: nodes may be edited in place, constant arrays are
shared and must be replaced, never written), the site node its op-typed parameter chose (or None), its
numeric parameters, and a seeded generator. It returns True when it changed the graph, False when the
rule does not apply at that site (the gene is then a no-op, never an error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph, Node

from .registry import Entry, lookup, register, summary_of


@dataclass(frozen=True)
class Implementation:
    name: str
    kind: str  # "morphism" | "mutation"
    guarantee: str  # "exact" | "approximate" | "none"
    apply: Callable[[Graph, Node | None, dict, np.random.Generator], bool]
    defaults: dict
    random: bool  # whether it draws from the generator (else its seed gene cannot matter)


def implementation(name: str, kind: str, guarantee: str, random: bool = True, **defaults):
    """Decorator registering a transform function (a morphism or a mutation) under `name` with its parameter
    defaults; `random` says whether it draws from the generator."""

    def decorate(function):
        transform = Implementation(name, kind, guarantee, function, defaults, random)
        register(Entry(name, kind, guarantee, summary_of(function), transform))
        return function

    return decorate


def get_transform(name: str) -> Implementation:
    """The registered morphism or mutation `name`."""
    return lookup(name, ("morphism", "mutation")).target


def replace_constant(graph: Graph, node: Node, index: int, array: np.ndarray) -> None:
    """Points input `index` of `node` at a new constant holding `array` (copy on write)."""
    old = node.inputs[index]
    graph.set_input(node, index, graph.add_constant(old.name, array))


def single_consumer(node: Node) -> Node | None:
    users = node.outputs[0].consumers()
    return users[0] if len(users) == 1 else None
