"""Connectivity matching of stitch points between two parents (Guijt et al. 2024).

A pair (a, b) is allowed when the spatial sizes agree (channels may differ), or, with `resize`, when one
is an integer multiple of the other; pairs that are the same function of the shared input (equal
structural signatures, e.g. both parents' identical preprocessing) are left out: such a stitch adds
nothing. Every pair weighs 1 + ε·s, s ∈ [0, 1] a similarity (closeness of relative depth by default,
linear CKA on request) and ε small enough that the number of pairs always comes first. Three matchers,
all returning one-to-one matchings whose merge keeps the graphs acyclic:

- `match_chain`: order-preserving DP over both topological orders (exact for chains, fast for any DAG);
- `match_greedy`: heaviest pairs first, each kept if the merge stays acyclic (the baseline);
- `match_exact`: branch and bound (Guijt et al.): the max-weight bipartite matching is the relaxation;
  a cycle in its merge is broken by branching on which of the cycle's pairs to drop; the better of the
  two matchers above is the starting incumbent, so the result is never worse than either.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph

from .merge_cycles import find_cycle
from .points import Point
from .signature import signatures

Pairs = list[tuple[Point, Point]]


def spatial_ratio(a: Point, b: Point) -> int | None:
    """The integer factor between the spatial sizes (1 when equal), or None when there is none."""
    if len(a.spatial) != len(b.spatial):
        return None
    if a.spatial == b.spatial:
        return 1
    big, small = (a.spatial, b.spatial) if a.spatial[0] > b.spatial[0] else (b.spatial, a.spatial)
    factors = {x // y for x, y in zip(big, small) if y and x % y == 0}
    return factors.pop() if len(factors) == 1 and all(x % y == 0 for x, y in zip(big, small)) else None


def compatible(a: Point, b: Point, resize: bool = False) -> bool:
    ratio = spatial_ratio(a, b)
    return ratio == 1 or (resize and ratio is not None)


def depth_closeness(points_a: list[Point], points_b: list[Point]) -> np.ndarray:
    """s[i, j] = 1 − |relative depth of a_i − relative depth of b_j|."""
    depth_a = (np.arange(len(points_a)) + 1) / max(len(points_a), 1)
    depth_b = (np.arange(len(points_b)) + 1) / max(len(points_b), 1)
    return 1.0 - np.abs(depth_a[:, None] - depth_b[None, :])


def same_function(points_a: list[Point], points_b: list[Point], graphs: tuple[Graph, Graph]) -> np.ndarray:
    """same[i, j]: a_i and b_j have equal structural signatures (the same function of the shared input)."""
    signatures_a, signatures_b = (signatures(g) for g in graphs)
    return np.array(
        [[signatures_a[id(a.value)] == signatures_b[id(b.value)] for b in points_b] for a in points_a], dtype=bool
    ).reshape(len(points_a), len(points_b))


def weights(
    points_a: list[Point],
    points_b: list[Point],
    similarity: np.ndarray | None = None,
    resize: bool = False,
    excluded: np.ndarray | None = None,
) -> np.ndarray:
    """Pair weights 1 + ε·s for allowed pairs, 0 for pairs that cannot be stitched or are `excluded`."""
    scores = depth_closeness(points_a, points_b) if similarity is None else np.clip(similarity, 0.0, 1.0)
    epsilon = 1.0 / (min(len(points_a), len(points_b)) + 1)
    allowed = np.array([[compatible(a, b, resize) for b in points_b] for a in points_a], dtype=bool).reshape(
        len(points_a), len(points_b)
    )
    if excluded is not None:
        allowed &= ~excluded
    return np.where(allowed, 1.0 + epsilon * scores, 0.0)


def match_chain(points_a: list[Point], points_b: list[Point], weight: np.ndarray) -> Pairs:
    """Max-weight order-preserving matching (longest-common-subsequence DP)."""
    n, m = weight.shape
    score = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diagonal = score[i - 1, j - 1] + weight[i - 1, j - 1] if weight[i - 1, j - 1] > 0 else -1.0
            score[i, j] = max(score[i - 1, j], score[i, j - 1], diagonal)
    pairs, i, j = [], n, m
    while i and j:
        if score[i, j] == score[i - 1, j]:
            i -= 1
        elif score[i, j] == score[i, j - 1]:
            j -= 1
        else:
            pairs.append((points_a[i - 1], points_b[j - 1]))
            i, j = i - 1, j - 1
    return pairs[::-1]


def match_greedy(
    points_a: list[Point], points_b: list[Point], weight: np.ndarray, graphs: tuple[Graph, Graph]
) -> Pairs:
    """Adds pairs heaviest first, skipping any that reuses a point or closes a cycle."""
    order = sorted(zip(*np.nonzero(weight > 0)), key=lambda ij: (-weight[ij], ij))
    chosen: Pairs = []
    used_a, used_b = set(), set()
    for i, j in order:
        if i in used_a or j in used_b:
            continue
        trial = chosen + [(points_a[i], points_b[j])]
        if find_cycle(graphs, [(a.value, b.value) for a, b in trial]) is None:
            chosen, used_a, used_b = trial, used_a | {i}, used_b | {j}
    return _in_order(chosen, points_a)


def match_exact(
    points_a: list[Point], points_b: list[Point], weight: np.ndarray, graphs: tuple[Graph, Graph], budget: int = 2000
) -> tuple[Pairs, bool]:
    """Branch and bound; returns the matching and whether optimality was proven within `budget` nodes."""
    index_a = {id(p.value): i for i, p in enumerate(points_a)}
    index_b = {id(p.value): j for j, p in enumerate(points_b)}

    def total(pairs: Pairs) -> float:
        return sum(weight[index_a[id(a.value)], index_b[id(b.value)]] for a, b in pairs)

    incumbent = max(
        (match_chain(points_a, points_b, weight), match_greedy(points_a, points_b, weight, graphs)), key=total
    )
    best, best_weight = incumbent, total(incumbent)
    stack: list[frozenset] = [frozenset()]
    explored = 0
    while stack and explored < budget:
        explored += 1
        banned = stack.pop()
        relaxed = _assignment(points_a, points_b, weight, banned)
        relaxed_weight = total(relaxed)
        if relaxed_weight <= best_weight + 1e-12:
            continue
        cycle = find_cycle(graphs, [(a.value, b.value) for a, b in relaxed])
        if cycle is None:
            best, best_weight = relaxed, relaxed_weight
            continue
        for k in cycle:
            a, b = relaxed[k]
            stack.append(banned | {(index_a[id(a.value)], index_b[id(b.value)])})
    return _in_order(best, points_a), not stack


def _assignment(points_a: list[Point], points_b: list[Point], weight: np.ndarray, banned: frozenset) -> Pairs:
    from scipy.optimize import linear_sum_assignment  # imported here: scipy.optimize costs 0.5 s at start-up

    masked = weight.copy()
    for i, j in banned:
        masked[i, j] = 0.0
    rows, cols = linear_sum_assignment(masked, maximize=True)
    return [(points_a[i], points_b[j]) for i, j in zip(rows, cols) if masked[i, j] > 0]


def _in_order(pairs: Pairs, points_a: list[Point]) -> Pairs:
    position = {id(p.value): i for i, p in enumerate(points_a)}
    return sorted(pairs, key=lambda pair: position[id(pair[0].value)])


def match(
    points_a: list[Point],
    points_b: list[Point],
    graphs: tuple[Graph, Graph] | None = None,
    similarity: np.ndarray | None = None,
    resize: bool = False,
    exact_limit: int = 64,
) -> Pairs:
    """The matching used by stitchc: exact when both graphs have at most `exact_limit` points, else the DP.
    With `graphs`, pairs that are the same function of the input are left out."""
    excluded = same_function(points_a, points_b, graphs) if graphs is not None else None
    weight = weights(points_a, points_b, similarity, resize, excluded)
    if graphs is None or max(len(points_a), len(points_b)) > exact_limit:
        return match_chain(points_a, points_b, weight)
    return match_exact(points_a, points_b, weight, graphs)[0]
