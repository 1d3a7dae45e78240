"""The SQLite file under a run store: where it is, opening it safely, and one-line errors for everything that
can be wrong with it.

Guarantees: a store is opened in WAL mode (a kill at any moment leaves a database that passes
`PRAGMA integrity_check`, with every committed evaluation in it) and checked (`PRAGMA quick_check`, the stitchc
schema) before use; every SQLite failure, at opening or later, becomes a StoreError whose one line names the
file and the cause (not a database, damaged, a directory, another program's database, read-only, disk full),
and says how to move a damaged store aside (`--reset-store`, which renames it
`NAME.damaged-YYYYmmdd-HHMMSS` and starts afresh). Other tables (a search's checkpoints) may share the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator

URL_PREFIX = "sqlite:///"  # Optuna's (SQLAlchemy's) convention: sqlite:///relative.db, sqlite:////absolute.db
ADVICE = "move it aside or rerun with --reset-store"
COMPANIONS = ("", "-wal", "-shm")  # the database and its WAL files move together
BUSY_TIMEOUT = 60.0  # seconds a writer waits for another run sharing the store


class StoreError(Exception):
    """The store cannot be used; the message names the file and the cause."""


def storage_path(url: str) -> str:
    """The file of a `--storage` URL (`sqlite:///path/to/study.db`); ValueError for any other form."""
    if not url.startswith(URL_PREFIX) or len(url) == len(URL_PREFIX):
        raise ValueError(f"expected sqlite:///PATH (a relative path; sqlite:////PATH for an absolute one), got '{url}'")
    return url[len(URL_PREFIX) :]


def move_aside(path: str) -> str | None:
    """Renames the store (and its WAL files) to `PATH.damaged-YYYYmmdd-HHMMSS`; returns the new name, or None
    when there was no store."""
    if not os.path.lexists(path):
        return None
    aside = f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in COMPANIONS:
        if os.path.lexists(path + suffix):
            os.rename(path + suffix, aside + suffix)
    return aside


def connect(path: str) -> sqlite3.Connection:
    """Opens (or creates) the store in WAL mode and checks the file is whole; StoreError otherwise."""
    if os.path.isdir(path):
        raise StoreError(f"{path}: not a stitchc store (a directory); {ADVICE}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with translated(path):
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable against any process crash
            problems = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise StoreError(f"{path}: not a stitchc store (damaged: {'; '.join(problems)}); {ADVICE}")
        except BaseException:
            connection.close()
            raise
    return connection


def check_schema(connection: sqlite3.Connection, path: str, version: int, columns: list[str]) -> None:
    """Accepts a store of this schema version whose `evaluations` table has `columns`, or an empty file; a
    store of an older stitchc is emptied (it is a cache); anything else is a StoreError."""
    with translated(path):
        found = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if found > version:
            raise StoreError(f"{path}: written by a newer stitchc (store schema {found}, this one reads {version})")
        if found == 0 and set(tables) - {"evaluations", "checkpoints"}:
            raise StoreError(f"{path}: not a stitchc store (it holds tables {', '.join(sorted(tables))}); {ADVICE}")
        if found == version and "evaluations" in tables:
            has = [row[1] for row in connection.execute("PRAGMA table_info(evaluations)")]
            if has != columns:
                cause = f"table evaluations has columns {', '.join(has)}"
                raise StoreError(f"{path}: not a stitchc store ({cause}); {ADVICE}")
        if found != version:
            connection.execute("DROP TABLE IF EXISTS evaluations")
            connection.execute("DROP TABLE IF EXISTS checkpoints")
            connection.execute(f"PRAGMA user_version = {version}")


@contextlib.contextmanager
def translated(path: str) -> Iterator[None]:
    """Turns an SQLite error inside the block into a StoreError naming the file and the cause."""
    try:
        yield
    except sqlite3.Error as error:
        raise StoreError(describe(path, error)) from None


def describe(path: str, error: sqlite3.Error) -> str:
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        return f"{path}: cannot write the store (read-only: {error})"
    if name == "SQLITE_FULL":
        return f"{path}: cannot write the store (no space left: {error})"
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or name.startswith("SQLITE_CORRUPT"):
        return f"{path}: not a stitchc store ({error}); {ADVICE}"
    if name == "SQLITE_BUSY" or name.startswith("SQLITE_BUSY"):
        return f"{path}: busy (another process kept it locked for {BUSY_TIMEOUT:.0f} s: {error})"
    return f"{path}: cannot use the store ({error})"
