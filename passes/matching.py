"""Connectivity matching of stitch points between two parents (Guijt et al. 2024).

A pair (a, b) is allowed when the spatial shapes agree (channels may differ). The chosen pairs are
order-preserving in both parents' topological orders, which guarantees that merging each matched pair
into one node leaves the union graph acyclic; among those, the dynamic programme maximises the number of
pairs, breaking ties towards pairs at similar relative depth.
"""
from __future__ import annotations

from stitchc.ir import Graph, Value

from .stitch_points import Point


def compatible(a: Point, b: Point) -> bool:
    return a.spatial == b.spatial


def match(points_a: list[Point], points_b: list[Point]) -> list[tuple[Point, Point]]:
    """Maximum order-preserving matching (longest-common-subsequence style DP)."""
    n, m = len(points_a), len(points_b)
    score = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = max(score[i - 1][j], score[i][j - 1])
            a, b = points_a[i - 1], points_b[j - 1]
            if compatible(a, b):
                pairs, closeness = score[i - 1][j - 1]
                best = max(best, (pairs + 1, closeness - abs(i / n - j / m)))
            score[i][j] = best
    pairs = []
    i, j = n, m
    while i and j:
        if score[i][j] == score[i - 1][j]:
            i -= 1
        elif score[i][j] == score[i][j - 1]:
            j -= 1
        else:
            pairs.append((points_a[i - 1], points_b[j - 1]))
            i, j = i - 1, j - 1
    return pairs[::-1]


def merge_is_acyclic(graph_a: Graph, graph_b: Graph, pairs: list[tuple[Value, Value]]) -> bool:
    """Whether identifying each matched pair of values turns A ∪ B into a graph without cycles."""
    alias = {id(b): id(a) for a, b in pairs}
    edges: dict[int, set[int]] = {}
    for graph in (graph_a, graph_b):
        for node in graph.nodes:
            for source in node.inputs:
                if source is None:
                    continue
                for target in node.outputs:
                    edges.setdefault(alias.get(id(source), id(source)), set()).add(alias.get(id(target), id(target)))
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done

    def visit(start: int) -> bool:
        stack = [(start, iter(edges.get(start, ())))]
        state[start] = 1
        while stack:
            vertex, successors = stack[-1]
            for nxt in successors:
                if state.get(nxt) == 1:
                    return False
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(edges.get(nxt, ()))))
                    break
            else:
                state[vertex] = 2
                stack.pop()
        return True

    return all(visit(v) for v in list(edges) if v not in state)
