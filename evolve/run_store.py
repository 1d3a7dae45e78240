"""The run store: every evaluation of a search, kept in SQLite in the run folder.

Evaluations are keyed by the search's identity (a hash of the fitted supernetwork and the genome layout), by
the identity of its objective set (each objective's metric and arguments, the source of user metric files,
the data of every measured split, the ONNX Runtime providers when latency is timed) and by the canonical
genome. A rerun of the same search, or one that was interrupted, reads them back instead of evaluating again;
since the search itself is seeded, it then retraces the same path and writes the same front, only faster. A
rerun with other objectives (or another metric file, or other data) evaluates afresh. Stores written by an
older schema are emptied on opening: they are a cache. Beside the evaluations, each run of a search (its
algorithm's settings) keeps a checkpoint of its search state after every generation
(stitchc.evolve.search_loop), so a rerun continues where the last one stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

from stitchc.grammar.program import MetricSpec, ObjectiveSpec
from stitchc.ir.runtime import providers
from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome

from .objectives import Evaluation, split_keys

SCHEMA_VERSION = 2
SCHEMA = """CREATE TABLE IF NOT EXISTS evaluations (
    search TEXT NOT NULL, objectives TEXT NOT NULL, genome TEXT NOT NULL, vals TEXT NOT NULL,
    macs INTEGER NOT NULL, params INTEGER NOT NULL, PRIMARY KEY (search, objectives, genome))"""
CHECKPOINTS = """CREATE TABLE IF NOT EXISTS checkpoints (
    search TEXT NOT NULL, objectives TEXT NOT NULL, run TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (search, objectives, run))"""


def search_identity(model_bytes: bytes, layout: list) -> str:
    digest = hashlib.sha256(model_bytes)
    digest.update(json.dumps(layout).encode())
    return digest.hexdigest()


def objectives_identity(
    objectives: tuple[ObjectiveSpec, ...], metrics: dict[str, MetricSpec], splits: dict[tuple[str, str], Samples]
) -> str:
    """A hash of everything an objective's value depends on besides the candidate."""
    digest = hashlib.sha256(json.dumps([o.label for o in objectives]).encode())
    for name in sorted({o.metric for o in objectives} & set(metrics)):
        with open(metrics[name].path, "rb") as handle:
            digest.update(f"{name}={metrics[name].function}".encode() + handle.read())
    for key in split_keys(objectives):
        digest.update(splits[key].fingerprint().encode())  # a content hash, read once per split
    if any(o.metric == "latency" for o in objectives):
        digest.update(json.dumps(providers()).encode())
    return digest.hexdigest()


class RunStore:
    def __init__(self, path: str, search: str, objectives: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.connection = sqlite3.connect(path)
        if self.connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            self.connection.execute("DROP TABLE IF EXISTS evaluations")
            self.connection.execute("DROP TABLE IF EXISTS checkpoints")
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.connection.execute(SCHEMA)
        self.search, self.objectives = search, objectives

    def load(self) -> dict[Genome, Evaluation]:
        rows = self.connection.execute(
            "SELECT genome, vals, macs, params FROM evaluations WHERE search = ? AND objectives = ?",
            (self.search, self.objectives),
        )
        evaluations = (Evaluation(tuple(json.loads(g)), tuple(json.loads(v)), m, p) for g, v, m, p in rows)
        return {e.genome: e for e in evaluations}

    def add(self, evaluations: list[Evaluation]) -> None:
        self.connection.executemany(
            "INSERT OR IGNORE INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
            [
                (self.search, self.objectives, json.dumps(list(e.genome)), json.dumps(list(e.values)), e.macs, e.params)
                for e in evaluations
            ],
        )
        self.connection.commit()

    def checkpoint(self, run: str) -> Checkpoint:
        """The search state checkpoint of one run of this search (`run`: the algorithm's settings)."""
        self.connection.execute(CHECKPOINTS)
        return Checkpoint(self, run)

    def load_checkpoint(self, run: str) -> str | None:
        row = self.connection.execute(
            "SELECT state FROM checkpoints WHERE search = ? AND objectives = ? AND run = ?",
            (self.search, self.objectives, run),
        ).fetchone()
        return row[0] if row else None

    def save_checkpoint(self, run: str, state: str) -> None:
        """Replaces the run's checkpoint, committed at once (after the evaluations it refers to)."""
        self.connection.execute(
            "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)", (self.search, self.objectives, run, state)
        )
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


class Checkpoint:
    """One run's search state in the store: `load()` the last saved (None: none yet), `save(state)`."""

    def __init__(self, store: RunStore, run: str):
        self.store, self.run = store, run

    def load(self) -> str | None:
        return self.store.load_checkpoint(self.run)

    def save(self, state: str) -> None:
        self.store.save_checkpoint(self.run, state)
