"""Pass infrastructure: a pass maps a graph to a PassResult; a manager runs a sequence of them."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

from stitchc.ir import Graph


@dataclass(frozen=True)
class PassResult:
    graph: Graph
    modified: bool


class PassBase(ABC):
    """A graph pass. Subclasses state their rule and guarantee (exact / approximate / none) in the docstring."""

    name: str = ""

    @abstractmethod
    def call(self, graph: Graph) -> PassResult: ...

    def __call__(self, graph: Graph) -> PassResult:
        return self.call(graph)


class PassManager(PassBase):
    """Runs passes in order; with `fixpoint`, repeats the sequence until nothing changes (at most `max_rounds`)."""

    def __init__(self, passes: list[PassBase], fixpoint: bool = False, max_rounds: int = 16):
        self.passes = passes
        self.fixpoint = fixpoint
        self.max_rounds = max_rounds

    def call(self, graph: Graph) -> PassResult:
        modified = False
        for _ in range(self.max_rounds if self.fixpoint else 1):
            changed = False
            for graph_pass in self.passes:
                result = graph_pass(graph)
                graph, changed = result.graph, changed or result.modified
            modified = modified or changed
            if not changed:
                break
        return PassResult(graph, modified)


REGISTRY: dict[str, Callable[[], PassBase]] = {}


def register_pass(name: str):
    """Class decorator: registers a PassBase subclass under `name`."""

    def decorate(cls):
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return decorate
