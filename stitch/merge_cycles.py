"""Cycle detection in the union of parent graphs after merging matched stitch points.

Merging a matched pair (a, b) into one vertex models the supernetwork's dependencies: data may flow from
a into b's successors and from b into a's. If the merged graph of all parents has no cycle, neither has the
supernetwork. Values are vertices; a node adds an edge from each input value to each output value.
"""

from __future__ import annotations

from collections.abc import Sequence

from stitchc.ir import Graph, Value


def _root(parent: dict[int, int], vertex: int) -> int:
    while parent.get(vertex, vertex) != vertex:
        vertex = parent[vertex]
    return vertex


def find_cycle(graphs: Sequence[Graph], pairs: Sequence[tuple[Value, Value]]) -> list[int] | None:
    """Indices of the pairs whose merged vertices lie on one cycle, or None when the merge is acyclic.
    Vertices are numbered in graph order, so the cycle found is the same in every run."""
    number: dict[int, int] = {}
    for graph in graphs:
        for value in graph.values():
            number.setdefault(id(value), len(number))
    parent: dict[int, int] = {}
    for a, b in pairs:
        parent[_root(parent, number[id(b)])] = _root(parent, number[id(a)])
    owner: dict[int, list[int]] = {}
    for index, (a, _) in enumerate(pairs):
        owner.setdefault(_root(parent, number[id(a)]), []).append(index)
    edges: dict[int, set[int]] = {}
    for graph in graphs:
        for node in graph.nodes:
            targets = [_root(parent, number[id(v)]) for v in node.outputs]
            for source in node.inputs:
                if source is not None:
                    edges.setdefault(_root(parent, number[id(source)]), set()).update(targets)
    cycle = _cycle(edges)
    if cycle is None:
        return None
    return sorted({i for vertex in cycle for i in owner.get(vertex, [])})


def _cycle(edges: dict[int, set[int]]) -> list[int] | None:
    """One cycle of the graph as a vertex list (iterative DFS), or None."""
    state: dict[int, int] = {}  # 1 = on the stack, 2 = finished
    for start in sorted(edges):
        if start in state:
            continue
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            vertex, successors = stack[-1]
            for nxt in successors:
                if state.get(nxt) == 1:
                    return path[path.index(nxt) :]
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(edges.get(nxt, ())))))
                    path.append(nxt)
                    break
            else:
                state[vertex] = 2
                stack.pop()
                path.pop()
    return None
