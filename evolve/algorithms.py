"""The search algorithms by the name a spec gives them (`algorithm = NAME(...)` in a search block)."""

from __future__ import annotations

from .algorithm import Algorithm
from .ga import ScalarisedGA
from .gomea import GOMEA
from .nsga2 import NSGA2
from .random_search import RandomSearch

ALGORITHMS = ("nsga2", "ga", "gomea", "random")


def make_algorithm(name: str, budget: int | None) -> Algorithm:
    """A fresh algorithm; random search needs the budget (it draws exactly that many distinct candidates)."""
    if name == "random":
        return RandomSearch(budget)
    return {"nsga2": NSGA2, "ga": ScalarisedGA, "gomea": GOMEA}[name]()
