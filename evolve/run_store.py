"""The run store: every evaluation of a search, kept in SQLite in the run folder.

Evaluations are keyed by the search's identity (a hash of the fitted supernetwork and the genome layout), by
the identity of its objective set (each objective's metric and arguments, the source of user metric files,
the data of every measured split, the ONNX Runtime providers when latency is timed) and by the canonical
genome. A rerun of the same search, or one that was interrupted, reads them back instead of evaluating again;
since the search itself is seeded, it then retraces the same path and writes the same front, only faster. A
rerun with other objectives (or another metric file, or other data) evaluates afresh. Stores written by an
older schema are emptied on opening: they are a cache. Each `add` is one transaction, committed at once (the
executor adds every evaluation as it completes); only the parent process writes. Several runs may share one
store file (`--storage`): rows are keyed as above, and SQLite's WAL lets them read and write side by side. A
store that cannot be used is a StoreError with one line (see store_file.py).
Beside the evaluations, each run of a search (its algorithm's settings) keeps a checkpoint of its search state
after every generation (stitchc.evolve.search_loop), so a rerun continues where the last one stopped.
"""

from __future__ import annotations

import hashlib
import json
import os

from stitchc.grammar.program import MetricSpec, ObjectiveSpec
from stitchc.ir.runtime import providers
from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome

from .objectives import Evaluation, split_keys
from .pause_points import pause_point
from .store_file import ADVICE, StoreError, check_schema, connect, translated

SCHEMA_VERSION = 2
COLUMNS = ["search", "objectives", "genome", "vals", "macs", "params"]
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


def check_store(path: str) -> None:
    """Raises StoreError now (before any work) when an existing store file cannot be used; creates nothing."""
    if os.path.lexists(path):
        RunStore(path, "", "").close()


class RunStore:
    def __init__(self, path: str, search: str, objectives: str):
        self.path = path
        self.connection = connect(path)
        try:
            check_schema(self.connection, path, SCHEMA_VERSION, COLUMNS)
            with translated(path):
                self.connection.execute(SCHEMA)
                self.connection.commit()
        except StoreError:
            self.connection.close()
            raise
        self.search, self.objectives = search, objectives

    def load(self) -> dict[Genome, Evaluation]:
        with translated(self.path):
            rows = self.connection.execute(
                "SELECT genome, vals, macs, params FROM evaluations WHERE search = ? AND objectives = ?",
                (self.search, self.objectives),
            ).fetchall()
        evaluations = [self._evaluation(*row) for row in rows]
        return {e.genome: e for e in evaluations}

    def _evaluation(self, genome: str, values: str, macs: int, params: int) -> Evaluation:
        """A row as an Evaluation; StoreError naming the row's genome text when a field does not decode."""
        try:
            decoded = Evaluation(tuple(json.loads(genome)), tuple(json.loads(values)), int(macs), int(params))
        except (ValueError, TypeError) as error:
            shown = str(genome)[:60]
            raise StoreError(
                f"{self.path}: not a stitchc store (bad row, genome '{shown}': {error}); {ADVICE}"
            ) from None
        if not all(isinstance(g, int) for g in decoded.genome):
            raise StoreError(f"{self.path}: not a stitchc store (bad row, genome '{str(genome)[:60]}'); {ADVICE}")
        return decoded

    def add(self, evaluations: list[Evaluation]) -> None:
        """Stores the evaluations in one committed transaction."""
        with translated(self.path):
            self.connection.executemany(
                "INSERT OR IGNORE INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        self.search,
                        self.objectives,
                        json.dumps(list(e.genome)),
                        json.dumps(list(e.values)),
                        e.macs,
                        e.params,
                    )
                    for e in evaluations
                ],
            )
            self.connection.commit()
        for _ in evaluations:
            pause_point("evaluation")

    def checkpoint(self, run: str) -> Checkpoint:
        """The search state checkpoint of one run of this search (`run`: the algorithm's settings)."""
        with translated(self.path):
            self.connection.execute(CHECKPOINTS)
        return Checkpoint(self, run)

    def load_checkpoint(self, run: str) -> str | None:
        with translated(self.path):
            row = self.connection.execute(
                "SELECT state FROM checkpoints WHERE search = ? AND objectives = ? AND run = ?",
                (self.search, self.objectives, run),
            ).fetchone()
        return row[0] if row else None

    def save_checkpoint(self, run: str, state: str) -> None:
        """Replaces the run's checkpoint, committed at once (after the evaluations it refers to)."""
        with translated(self.path):
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
