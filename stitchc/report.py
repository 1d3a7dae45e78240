"""What a run leaves behind: front.json, one .onnx per Pareto point (carrying its provenance as metadata, see
metadata.py), and the terminal table."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import onnx

from .metadata import stitchc_version, with_metadata

DESCRIPTION_KEYS = ("genome", "choices", "program", "parent")  # the row_json keys that are not objective values


@dataclass(frozen=True)
class Row:
    label: str  # file name for front points, "parent a" for parents
    genome: tuple[int, ...]
    choices: dict[str, str]  # gene name -> option, for genes that leave their default
    val_accuracy: float
    test_accuracy: float
    macs: int
    params: int
    parent: str | None = None  # set when the row computes a parent alone
    program: tuple[str, ...] = ()  # the morphism/mutation steps that applied, in order


def row_json(row: Row) -> dict:
    return {
        "file": row.label,
        "genome": list(row.genome),
        "choices": row.choices,
        "val_accuracy": row.val_accuracy,
        "test_accuracy": row.test_accuracy,
        "macs": row.macs,
        "params": row.params,
        "parent": row.parent,
        "program": list(row.program),
    }


def _parents_json(parents: list[Row]) -> dict:
    return {row.parent: {k: v for k, v in row_json(row).items() if k not in ("file", "parent")} for row in parents}


def model_metadata(search: str, parents: list[Row], row: Row) -> dict:
    """The fields an exported front model carries: version, search, parents (each alone: its objectives),
    genome, choices, program steps, the parent it equals (or null) and its objectives' values."""
    described = {k: v for k, v in row_json(row).items() if k != "file"}
    fields = {"version": stitchc_version(), "search": search, "parents": _parents_json(parents)}
    fields.update({k: described.pop(k) for k in DESCRIPTION_KEYS})
    fields["objectives"] = described
    return fields


def write_run(
    out_dir: str,
    search: str,
    parents: list[Row],
    front: list[Row],
    models: list[onnx.ModelProto],
    hypervolume: dict,
    page: str,
) -> str:
    """Writes the .onnx files (with their metadata), report.html and front.json (each through a temporary
    file); removes stale front_*.onnx files, and every front_*.pt2 (a torch export writes them again)."""
    os.makedirs(out_dir, exist_ok=True)
    for row, model in zip(front, models):
        model = with_metadata(model, model_metadata(search, parents, row))
        atomic_write(os.path.join(out_dir, row.label), model.SerializeToString())
    keep = {row.label for row in front}
    for name in os.listdir(out_dir):
        if name.startswith("front_") and name.endswith((".onnx", ".pt2")) and name not in keep:
            os.remove(os.path.join(out_dir, name))
    document = {
        "search": search,
        "objectives": ["maximize accuracy (validation split)", "minimize macs"],
        "parents": _parents_json(parents),
        "hypervolume": hypervolume,
        "front": [row_json(row) for row in front],
    }
    atomic_write(os.path.join(out_dir, "report.html"), page.encode())
    path = os.path.join(out_dir, "front.json")
    atomic_write(path, (json.dumps(document, indent=2) + "\n").encode())
    return path


def atomic_write(path: str, data: bytes) -> None:
    """Writes through a temporary file beside `path`, so `path` is either the old or the whole new content."""
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def table(parents: list[Row], front: list[Row]) -> str:
    header = f"{'model':<16} {'MACs':>11} {'params':>9} {'val acc':>8} {'test acc':>8}  choices"
    lines = [header, "-" * len(header)]
    for row in [*parents, *front]:
        label = f"parent {row.parent}" if row in parents else row.label
        choices = ", ".join([f"{gene}={option}" for gene, option in row.choices.items()] + list(row.program))
        lines.append(
            f"{label:<16} {row.macs:>11,} {row.params:>9,} {row.val_accuracy:>8.4f} "
            f"{row.test_accuracy:>8.4f}  {choices}"
        )
        if row is parents[-1]:
            lines.append("-" * len(header))
    return "\n".join(lines)
