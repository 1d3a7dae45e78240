"""What a run leaves behind: front.json, one .onnx per Pareto point (carrying its provenance as metadata, see
metadata.py), and the terminal table."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import onnx

from stitchc.evolve.hypervolume import Axis
from stitchc.grammar.program import ObjectiveSpec

from .folder_swap import publish
from .metadata import stitchc_version, with_metadata

COSTS = ("macs", "params")  # shown for every candidate, as columns of their own unless they are objectives


@dataclass(frozen=True)
class Columns:
    """What a report shows of a candidate: the search's objectives (with their hypervolume axes), then the
    objectives measured on data again on the test split."""

    objectives: tuple[ObjectiveSpec, ...]
    axes: list[Axis]
    tests: tuple[ObjectiveSpec, ...]

    @property
    def labels(self) -> list[str]:
        """Column titles: every objective, every test measurement, the costs that are not objectives."""
        names = [o.label for o in (*self.objectives, *self.tests)]
        return names + [cost for cost in COSTS if cost not in names]

    def cells(self, row: Row) -> list[str]:
        """The row's values under `labels`, formatted."""
        costs = [getattr(row, cost) for cost in COSTS if cost not in [o.label for o in self.objectives]]
        return [format_value(v) for v in (*row.values, *row.test, *costs)]


DESCRIPTION_KEYS = ("genome", "choices", "program", "parent")  # the row_json keys that are not objective values


@dataclass(frozen=True)
class Row:
    label: str  # file name for front points, "parent a" for parents
    genome: tuple[int, ...]
    choices: dict[str, str]  # gene name -> option, for genes that leave their default
    values: tuple[float, ...]  # the search's objectives, on the splits they are measured on
    test: tuple[float, ...]  # the objectives measured on data, on the test split
    macs: int
    params: int
    parent: str | None = None  # set when the row computes a parent alone
    program: tuple[str, ...] = ()  # the morphism/mutation steps that applied, in order


def format_value(value: float) -> str:
    """Counts with thousands separators, measurements with four decimals."""
    return f"{value:,}" if isinstance(value, int) else f"{value:.4f}"


def objective_json(objective: ObjectiveSpec, axis: Axis) -> dict:
    return {
        "name": objective.label,
        "direction": objective.direction,
        "reference": axis.reference,
        "ideal": axis.ideal,
        "scale": "log10" if axis.log else "linear",
    }


def row_json(row: Row, columns: Columns) -> dict:
    return {
        "file": row.label,
        "genome": list(row.genome),
        "choices": row.choices,
        "objectives": {o.label: v for o, v in zip(columns.objectives, row.values)},
        "test": {o.label: v for o, v in zip(columns.tests, row.test)},
        "macs": row.macs,
        "params": row.params,
        "parent": row.parent,
        "program": list(row.program),
    }


def _parents_json(parents: list[Row], columns: Columns) -> dict:
    return {
        row.parent: {k: v for k, v in row_json(row, columns).items() if k not in ("file", "parent")} for row in parents
    }


def model_metadata(search: str, columns: Columns, parents: list[Row], row: Row) -> dict:
    """The fields an exported front model carries: version, search, parents (each alone: its objectives),
    genome, choices, program steps, the parent it equals (or null) and its objectives' values (validation
    and test, MACs, parameters)."""
    described = {k: v for k, v in row_json(row, columns).items() if k != "file"}
    fields = {"version": stitchc_version(), "search": search, "parents": _parents_json(parents, columns)}
    fields.update({k: described.pop(k) for k in DESCRIPTION_KEYS})
    fields["objectives"] = described
    return fields


def write_run(
    out_dir: str,
    search: str,
    columns: Columns,
    parents: list[Row],
    front: list[Row],
    models: list[onnx.ModelProto],
    history: list[tuple[int, int, float]],
    page: str,
    anytime: list[tuple[int, int, float]] = (),
    stats: dict | None = None,
) -> str:
    """Publishes the run folder in one swap (folder_swap.py): the .onnx files (with their metadata),
    report.html and front.json of this run replace those of the last one, stale front_*.onnx files and every
    front_*.pt2 (a torch export writes them again) go; the store, the cache and other files stay.
    `history` is the hypervolume after each generation: (generation, evaluated, value); `anytime` where it
    rose: (distinct evaluations, generation, value); `stats`, what the search cost in this run (front.json's
    only key that differs between reruns), goes under `stats`."""
    document = {
        "search": search,
        "objectives": [objective_json(o, a) for o, a in zip(columns.objectives, columns.axes)],
        "parents": _parents_json(parents, columns),
        "hypervolume": {
            "value": history[-1][2],
            "history": [{"generation": g, "evaluations": n, "value": v} for g, n, v in history],
        },
        "front": [row_json(row, columns) for row in front],
    }
    if stats is not None:
        document["stats"] = stats
    if anytime:  # where the hypervolume rose, by distinct candidates evaluated
        document["anytime"] = [{"evaluations": n, "generation": g, "hypervolume": v} for n, g, v in anytime]

    def write(folder: str) -> None:
        for row, model in zip(front, models):
            model = with_metadata(model, model_metadata(search, columns, parents, row))
            atomic_write(os.path.join(folder, row.label), model.SerializeToString())
        atomic_write(os.path.join(folder, "report.html"), page.encode())
        atomic_write(os.path.join(folder, "front.json"), (json.dumps(document, indent=2) + "\n").encode())

    publish(out_dir, write, is_published)
    return os.path.join(out_dir, "front.json")


def is_published(name: str) -> bool:
    """Whether a run folder's entry is the output of the last export (what a new export replaces)."""
    name = name.removesuffix(".tmp")
    return name in ("front.json", "report.html") or (name.startswith("front_") and name.endswith((".onnx", ".pt2")))


def atomic_write(path: str, data: bytes) -> None:
    """Writes through a temporary file beside `path`, so `path` is either the old or the whole new content.
    A failure (a full disk, a read-only file system, no permission) removes the temporary file and raises
    OSError naming `path` with the cause."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise OSError(error.errno, error.strerror, path) from None


def table(columns: Columns, parents: list[Row], front: list[Row]) -> str:
    """Parents, then the front: one column per objective, per test measurement and per other cost."""
    labels = columns.labels
    widths = [max(len(label), 9) for label in labels]
    header = f"{'model':<16} " + " ".join(f"{t:>{w}}" for t, w in zip(labels, widths)) + "  choices"
    lines = [header, "-" * len(header)]
    for row in [*parents, *front]:
        label = f"parent {row.parent}" if row in parents else row.label
        choices = ", ".join([f"{gene}={option}" for gene, option in row.choices.items()] + list(row.program))
        cells = " ".join(f"{c:>{w}}" for c, w in zip(columns.cells(row), widths))
        lines.append(f"{label:<16} {cells}  {choices}")
        if row is parents[-1]:
            lines.append("-" * len(header))
    return "\n".join(lines)
