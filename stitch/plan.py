"""Which stitches to build: directed (source point → target point) plans, from matching or from a spec."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stitchc.ir import Graph

from .matching import match, spatial_ratio
from .merge_cycles import find_cycle
from .points import Point, resolve_point, stitch_points


class StitchError(Exception):
    """A stitch cannot be built; the message names the points and the reason, `hint` says what would help."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class StitchPlan:
    source_parent: str
    source: Point
    target_parent: str
    target: Point

    @property
    def name(self) -> str:
        return f"{self.source_parent}.{self.source.label}->{self.target_parent}.{self.target.label}"


def auto_plans(
    left: str, right: str, graphs: dict[str, Graph], similarity: np.ndarray | None = None, resize: bool = False
) -> list[StitchPlan]:
    """Matches the two parents' points and plans both stitch directions for every matched pair."""
    pairs = match(
        stitch_points(graphs[left]), stitch_points(graphs[right]), (graphs[left], graphs[right]), similarity, resize
    )
    plans = []
    for a, b in pairs:
        plans += [StitchPlan(left, a, right, b), StitchPlan(right, b, left, a)]
    return plans


def group_plans(parents: dict[str, Graph], resize: bool = False) -> list[StitchPlan]:
    """Pairwise stitch groups for any number of parents: every pair of parents matched on its own, then
    pairs of later groups dropped, one by one, while the merge of all parents still has a cycle."""
    names = list(parents)
    plans = []
    for i, left in enumerate(names):
        for right in names[i + 1 :]:
            plans += auto_plans(left, right, parents, resize=resize)
    return repair_cycles(parents, plans)


def repair_cycles(parents: dict[str, Graph], plans: list[StitchPlan]) -> list[StitchPlan]:
    """Drops the latest planned pair on a cycle (both directions) until the merge of all parents is acyclic."""
    graphs = list(parents.values())
    while (cycle := find_cycle(graphs, [(p.source.value, p.target.value) for p in plans])) is not None:
        drop = {id(plans[max(cycle)].source.value), id(plans[max(cycle)].target.value)}
        plans = [p for p in plans if {id(p.source.value), id(p.target.value)} != drop]
    return plans


def explicit_plan(
    graphs: dict[str, Graph], source: str, source_path: str, target: str, target_path: str, resize: bool = False
) -> StitchPlan:
    """A plan for `source.source_path -> target.target_path`; raises StitchError or PointError."""
    plan = StitchPlan(
        source, resolve_point(graphs[source], source_path), target, resolve_point(graphs[target], target_path)
    )
    check_plan(plan, resize)
    return plan


def check_plan(plan: StitchPlan, resize: bool) -> None:
    ratio = spatial_ratio(plan.source, plan.target)
    if ratio == 1 or (resize and ratio is not None):
        return
    hint = None
    if ratio is not None:
        reason, hint = (
            "spatial sizes differ",
            "set `resize = true` in the stitch block to pool or upsample between them",
        )
    elif len(plan.source.spatial) != len(plan.target.spatial):
        reason = "one is a [N, C, H, W] feature map and the other a [N, C] vector"
    else:
        reason = "spatial sizes are not integer multiples of each other"
    raise StitchError(
        f"cannot stitch {plan.source_parent}.{plan.source.label} ({plan.source.value.type}) -> "
        f"{plan.target_parent}.{plan.target.label} ({plan.target.value.type}): {reason}",
        hint,
    )


def check_acyclic(graphs: dict[str, Graph], plans: list[StitchPlan]) -> None:
    """Refuses plans whose merged parents would contain a cycle, naming the stitches on it."""
    cycle = find_cycle(list(graphs.values()), [(p.source.value, p.target.value) for p in plans])
    if cycle is not None:
        names = ", ".join(plans[i].name for i in cycle)
        raise StitchError(f"these stitches would form a cycle: {names}")
