"""The run store: every evaluation of a search, kept in SQLite in the run folder.

Evaluations are keyed by the search's identity (a hash of the fitted supernetwork, the genome layout and
the evaluation data) and the canonical genome. A rerun of the same search, or one that was interrupted,
reads them back instead of evaluating again; since the search itself is seeded, it then retraces the same
path and writes the same front, only faster.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

from stitchc.ir.samples import Samples
from stitchc.stitch.decode import Genome
from .objectives import Evaluation

SCHEMA = """CREATE TABLE IF NOT EXISTS evaluations (
    search TEXT NOT NULL, genome TEXT NOT NULL, accuracy REAL NOT NULL, macs INTEGER NOT NULL,
    params INTEGER NOT NULL, PRIMARY KEY (search, genome))"""


def search_identity(model_bytes: bytes, layout: list, data: Samples) -> str:
    digest = hashlib.sha256(model_bytes)
    digest.update(json.dumps(layout).encode())
    digest.update(data.fingerprint().encode())
    return digest.hexdigest()


class RunStore:
    def __init__(self, path: str, search: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.connection = sqlite3.connect(path)
        self.connection.execute(SCHEMA)
        self.search = search

    def load(self) -> dict[Genome, Evaluation]:
        rows = self.connection.execute(
            "SELECT genome, accuracy, macs, params FROM evaluations WHERE search = ?", (self.search,)
        )
        return {tuple(json.loads(g)): Evaluation(tuple(json.loads(g)), a, m, p) for g, a, m, p in rows}

    def add(self, evaluations: list[Evaluation]) -> None:
        self.connection.executemany(
            "INSERT OR IGNORE INTO evaluations VALUES (?, ?, ?, ?, ?)",
            [(self.search, json.dumps(list(e.genome)), e.accuracy, e.macs, e.params) for e in evaluations],
        )
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()
