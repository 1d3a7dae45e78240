"""Pass infrastructure: a pass maps a graph to a PassResult, a manager runs a sequence of them, a registry
names them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from stitchc.ir import Graph

from .registry import Entry, lookup, register, summary_of
from .run_report import FIXPOINT, ROUND_LIMIT, SINGLE_RUN, RunReport
from .verify import verify


@dataclass(frozen=True)
class PassResult:
    graph: Graph
    modified: bool
    failures: tuple[str, ...] = ()  # why candidate matches were refused (rule passes)


class PassBase(ABC):
    """A graph pass. Subclasses state their rule and guarantee (exact / approximate / none) in the docstring."""

    name: str = ""
    guarantee: str = "none"  # "exact" | "approximate" | "none"

    @abstractmethod
    def call(self, graph: Graph) -> PassResult: ...

    def __call__(self, graph: Graph) -> PassResult:
        return self.call(graph)


class PassManager(PassBase):
    """Runs passes in order; with `fixpoint`, repeats the sequence until nothing changes (at most `max_rounds`).

    With `debug`, the graph is verified after every pass and a broken graph names the pass that broke it.
    After a call, `report` (a RunReport) says why it stopped and how often each pass changed the graph.
    """

    def __init__(
        self,
        passes: list[PassBase],
        fixpoint: bool = False,
        max_rounds: int = 16,
        debug: bool = False,
        name: str = "pipeline",
    ):
        self.passes = passes
        self.fixpoint = fixpoint
        self.max_rounds = max_rounds
        self.debug = debug
        self.name = name
        self.report = RunReport()

    def call(self, graph: Graph) -> PassResult:
        modified, failures = False, []
        labels = [graph_pass.name or type(graph_pass).__name__ for graph_pass in self.passes]
        self.report = report = RunReport(ROUND_LIMIT if self.fixpoint else SINGLE_RUN, 0, dict.fromkeys(labels, 0))
        for _ in range(self.max_rounds if self.fixpoint else 1):
            changed = False
            report.rounds += 1
            for graph_pass, label in zip(self.passes, labels):
                result = graph_pass(graph)
                graph, changed = result.graph, changed or result.modified
                failures += result.failures
                report.changes[label] += result.modified
                if self.debug:
                    verify(graph, after=label)
            modified = modified or changed
            if not changed:
                report.stop = FIXPOINT if self.fixpoint else SINGLE_RUN
                break
        return PassResult(graph, modified, tuple(failures))


class FunctionPass(PassBase):
    """A Python function `graph -> PassResult | bool` (True: modified in place) used as a pass."""

    def __init__(self, name: str, function: Callable):
        self.name, self.function = name, function

    def call(self, graph: Graph) -> PassResult:
        result = self.function(graph)
        return result if isinstance(result, PassResult) else PassResult(graph, bool(result))


def register_pass(name: str | Callable | None = None, guarantee: str | None = None):
    """Registers a pass by name: a PassBase subclass or a function `graph -> PassResult | bool`.

    Use as `@register_pass("name")` or bare `@register_pass` (the class or function name). The guarantee is
    the class's `guarantee` attribute, or the `guarantee` argument (a function pass states none by default).
    """
    if callable(name):
        return register_pass(None, guarantee)(name)

    def decorate(target):
        key = name or target.__name__
        if isinstance(target, type) and issubclass(target, PassBase):
            target.name = key
            make, promised = target, guarantee or target.guarantee
        else:
            make, promised = (lambda: FunctionPass(key, target)), guarantee or "none"
        register(Entry(key, "pass", promised, summary_of(target), make))
        return target

    return decorate


def get_pass(name: str) -> PassBase:
    """A fresh instance of the registered pass `name` (built-ins, user passes and the rules loaded so far)."""
    return lookup(name, ("pass",)).target()
