"""Which executor evaluates a run's candidates: the local process pool, or a Ray cluster's actors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from stitchc.evolve.executor import Executor


@contextmanager
def executor_factory(kind: str, address: str | None = None, workers: int | None = None) -> Iterator:
    """Yields what makes a search's executor, `(evaluator, workers, store) -> Executor`, for the run's length:
    the local pool, or (kind "ray") the executors of a Ray cluster, connected before any work so a missing Ray
    or an unreachable address fails first (RayError)."""
    if kind == "local":
        yield Executor
        return
    from stitchc.evolve.ray_executor import RayCluster

    with RayCluster(address, workers) as cluster:
        yield cluster.executor
