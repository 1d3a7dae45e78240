"""Pareto front of evaluations: maximise accuracy, minimise MACs."""

from __future__ import annotations

from .objectives import Evaluation


def dominates(p: Evaluation, q: Evaluation) -> bool:
    return p.accuracy >= q.accuracy and p.macs <= q.macs and (p.accuracy > q.accuracy or p.macs < q.macs)


def pareto_front(evaluations: list[Evaluation]) -> list[Evaluation]:
    """Non-dominated evaluations, one per objective vector (fewest params, then smallest genome), by MACs."""
    best: dict[tuple[float, int], Evaluation] = {}
    for e in sorted(evaluations, key=lambda e: (e.params, e.genome)):
        best.setdefault((e.accuracy, e.macs), e)
    points = list(best.values())
    front = [p for p in points if not any(dominates(q, p) for q in points)]
    return sorted(front, key=lambda e: (e.macs, e.accuracy))
