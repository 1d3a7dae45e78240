"""Reading a run folder back: `stitchc show RUN_DIR` prints the front table again, `stitchc report RUN_DIR`
writes report.html again, without the spec.

front.json holds the objectives (with their hypervolume axes), the parents, the front and the hypervolume
after each generation; the front's .onnx files hold the networks; evaluations.sqlite holds every candidate
evaluated: those of the search that made the front are the rows of the store's (search, objectives) group
that holds every front genome with the values front.json gives. Guarantee: for a finished run, `show` prints
the table the run printed, and `report` writes the page the run wrote (when no program step changed the
genome's meaning since).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass

import onnx
from google.protobuf.message import DecodeError

from stitchc.evolve.hypervolume import Axis
from stitchc.evolve.objectives import Evaluation
from stitchc.grammar.program import ObjectiveSpec

from .report import Columns, Row, atomic_write

FRONT, STORE, PAGE = "front.json", "evaluations.sqlite", "report.html"


class RunFolderError(Exception):
    """The folder is not a finished run folder (no readable front.json); the message names the file and why."""


@dataclass
class StoredRun:
    search: str
    columns: Columns
    parents: list[Row]
    front: list[Row]
    history: list[tuple[int, int, float]]
    anytime: list[tuple[int, int, float]]  # where the hypervolume rose: (distinct evaluations, generation, value)


def objective(label: str, direction: str) -> ObjectiveSpec:
    """The objective a report label names: `accuracy(digits.val)`, `topk(d.val, k = 3)`, `macs`."""
    metric, _, inside = label.partition("(")
    data = split = None
    args = []
    for part in (p.strip() for p in inside.rstrip(")").split(",") if p.strip()):
        if "=" in part:
            key, value = (side.strip() for side in part.split("=", 1))
            args.append((key, json.loads(value)))
        else:
            data, split = part.split(".", 1)
    return ObjectiveSpec(direction, metric, data, split, tuple(args))


def load_run(folder: str) -> StoredRun:
    """The run recorded in `folder`'s front.json; RunFolderError when there is none or it cannot be read."""
    path = os.path.join(folder, FRONT)
    try:
        with open(path) as handle:
            document = json.load(handle)
        return _stored(document)
    except OSError as error:
        raise RunFolderError(f"{path}: cannot read ({error.strerror or error}); is {folder} a run folder?") from None
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise RunFolderError(f"{path}: not a front.json written by stitchc ({type(error).__name__}: {error})") from None


def _stored(document: dict) -> StoredRun:
    objectives = tuple(objective(o["name"], o["direction"]) for o in document["objectives"])
    axes = [Axis(o["reference"], o["ideal"], o["scale"] == "log10") for o in document["objectives"]]
    directions = {o.on_split("test").label: o.direction for o in objectives}
    points = [*document["parents"].values(), *document["front"]]
    tests = tuple(
        objective(label, directions.get(label, "maximize"))
        for label in dict.fromkeys(label for p in points for label in p["test"])
    )
    columns = Columns(objectives, axes, tests)
    parents = [
        _row(f"parent {name}", {**point, "parent": name}, columns) for name, point in document["parents"].items()
    ]
    front = [_row(point["file"], point, columns) for point in document["front"]]
    history = [(h["generation"], h["evaluations"], h["value"]) for h in document["hypervolume"]["history"]]
    anytime = [(a["evaluations"], a["generation"], a["hypervolume"]) for a in document.get("anytime", [])]
    return StoredRun(document["search"], columns, parents, front, history, anytime)


def _row(label: str, point: dict, columns: Columns) -> Row:
    return Row(
        label,
        tuple(point["genome"]),
        point["choices"],
        tuple(point["objectives"][o.label] for o in columns.objectives),
        tuple(point["test"][o.label] for o in columns.tests),
        point["macs"],
        point["params"],
        point.get("parent"),
        tuple(point.get("program", ())),
    )


def archive(folder: str, run: StoredRun) -> list[Evaluation]:
    """Every candidate the run's search evaluated, read from the store; the front and the parents alone when
    the store is missing, unreadable, or holds no group with the whole front."""
    fallback = [Evaluation(row.genome, row.values, row.macs, row.params) for row in [*run.parents, *run.front]]
    path = os.path.join(folder, STORE)
    if not os.path.exists(path):
        return fallback
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            rows = connection.execute(
                "SELECT search, objectives, genome, vals, macs, params FROM evaluations"
            ).fetchall()
    except sqlite3.Error:
        return fallback
    groups: dict[tuple[str, str], list[Evaluation]] = {}
    for search, objectives, genome, values, macs, params in rows:
        evaluation = Evaluation(tuple(json.loads(genome)), tuple(json.loads(values)), macs, params)
        groups.setdefault((search, objectives), []).append(evaluation)
    for evaluations in groups.values():
        found = {e.genome: e.values for e in evaluations}
        if all(found.get(row.genome) == row.values for row in run.front):
            return evaluations
    return fallback


def rewrite_report(folder: str) -> str:
    """Writes `folder`/report.html again from the run folder; returns its path."""
    from .report_html import render

    run = load_run(folder)
    models = []
    for row in run.front:
        try:
            models.append(onnx.load(os.path.join(folder, row.label)))
        except (OSError, DecodeError) as error:
            raise RunFolderError(f"{os.path.join(folder, row.label)}: cannot read the model ({error})") from None
    extra = sorted(name for name in os.listdir(folder) if name.endswith(".pt2"))
    page = render(
        run.search, run.columns, archive(folder, run), run.parents, run.front, run.history, models, extra, run.anytime
    )
    path = os.path.join(folder, PAGE)
    atomic_write(path, page.encode())
    return path
