"""The run store: every SQLite problem is one line naming the file and the cause (never a traceback); a
damaged store moves aside with --reset-store; evaluations are committed one by one in WAL mode; several runs
can share one store with --storage sqlite:///PATH."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from stitchc.cli import main
from stitchc.evolve import store_file
from stitchc.evolve.objectives import Evaluation
from stitchc.evolve.run_store import RunStore
from stitchc.evolve.store_file import StoreError, storage_path
from tests.conftest import front_bytes

ADVICE = "move it aside or rerun with --reset-store"
ROWS = [Evaluation((0, 1), (0.5, 10.0), 10, 3), Evaluation((1, 0), (0.75, 20.0), 20, 4)]


@pytest.fixture()
def good_store(tmp_path):
    path = str(tmp_path / "evaluations.sqlite")
    store = RunStore(path, "s", "o")
    store.add(ROWS)
    store.close()
    return path


def _error(path: str) -> str:
    with pytest.raises(StoreError) as caught:
        RunStore(path, "s", "o").load()
    return str(caught.value)


def _sql(path: str, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def test_garbage(good_store):
    with open(good_store, "wb") as handle:
        handle.write(b"not sqlite at all\n" * 100)
    assert _error(good_store) == f"{good_store}: not a stitchc store (file is not a database); {ADVICE}"


def test_truncated(good_store):
    data = open(good_store, "rb").read()
    for size in (100, len(data) // 2):
        with open(good_store, "wb") as handle:
            handle.write(data[:size])
        assert _error(good_store).startswith(f"{good_store}: not a stitchc store (")
        assert _error(good_store).endswith(f"); {ADVICE}")


def test_a_directory_in_its_place(tmp_path):
    path = str(tmp_path / "evaluations.sqlite")
    os.mkdir(path)
    assert _error(path) == f"{path}: not a stitchc store (a directory); {ADVICE}"


def test_another_programs_database_is_left_alone(tmp_path):
    path = str(tmp_path / "evaluations.sqlite")
    _sql(path, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('kept')")
    assert _error(path) == f"{path}: not a stitchc store (it holds tables users); {ADVICE}"
    assert sqlite3.connect(path).execute("SELECT name FROM users").fetchall() == [("kept",)]


def test_a_wrong_schema(tmp_path):
    path = str(tmp_path / "evaluations.sqlite")
    _sql(path, "PRAGMA user_version = 2", "CREATE TABLE evaluations (a, b)")
    assert _error(path) == f"{path}: not a stitchc store (table evaluations has columns a, b); {ADVICE}"


def test_a_newer_schema(tmp_path):
    path = str(tmp_path / "evaluations.sqlite")
    _sql(path, "PRAGMA user_version = 99")
    assert _error(path) == f"{path}: written by a newer stitchc (store schema 99, this one reads 2)"


@pytest.mark.parametrize(
    "genome, cause",
    [("[1, 2", "Expecting ',' delimiter: line 1 column 6 (char 5)"), ('{"a": 1}', None), ("[1.5]", None)],
)
def test_bad_genome_json(good_store, genome, cause):
    _sql(good_store, f"UPDATE evaluations SET genome = '{genome}' WHERE rowid = 1")
    detail = f"genome '{genome}': {cause}" if cause else f"genome '{genome}'"
    assert _error(good_store) == f"{good_store}: not a stitchc store (bad row, {detail}); {ADVICE}"


def test_a_read_only_store(good_store, monkeypatch):
    """SQLite's own read-only mode stands in for a read-only file (tests run as root, which writes anyway)."""
    connect = sqlite3.connect
    monkeypatch.setattr(store_file.sqlite3, "connect", lambda p, **k: connect(f"file:{p}?mode=ro", uri=True, **k))
    with pytest.raises(StoreError) as caught:
        RunStore(good_store, "s", "o").add([Evaluation((2, 2), (0.1, 1.0), 1, 1)])
    assert str(caught.value).startswith(f"{good_store}: cannot write the store (read-only: attempt to write a readonly")


def test_a_full_disk(good_store):
    store = RunStore(good_store, "s", "o")
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, as on a full disk
    with pytest.raises(StoreError) as caught:
        store.add([Evaluation((i, i + 1, i + 2), (0.1, 1.0), 1, 1) for i in range(5000)])
    assert str(caught.value) == f"{good_store}: cannot write the store (no space left: database or disk is full)"
    store.close()
    assert len(RunStore(good_store, "s", "o").load()) == len(ROWS)  # what was committed stays


def test_evaluations_are_committed_one_by_one_in_wal_mode(good_store):
    store = RunStore(good_store, "s", "o")
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.add([Evaluation((5, 5), (0.2, 2.0), 2, 2)])
    reader = sqlite3.connect(good_store)  # another connection sees it at once: committed
    assert reader.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 3
    assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_storage_urls():
    assert storage_path("sqlite:///runs/study.db") == "runs/study.db"
    assert storage_path("sqlite:////tmp/study.db") == "/tmp/study.db"
    for bad in ("postgresql://host/db", "sqlite:///", "study.db"):
        with pytest.raises(ValueError):
            storage_path(bad)


def test_a_damaged_store_stops_the_run_before_any_work_and_reset_store_moves_it_aside(tiny_spec, tmp_path, capsys):
    store = tmp_path / "out" / "evaluations.sqlite"
    os.makedirs(store.parent)
    store.write_bytes(b"garbage" * 200)
    assert main(["run", tiny_spec]) == 2
    err = capsys.readouterr().err
    assert err == f"stitchc: error: {store}: not a stitchc store (file is not a database); {ADVICE}\n"
    assert main(["run", tiny_spec, "--reset-store"]) == 0
    aside = [n for n in os.listdir(store.parent) if n.startswith("evaluations.sqlite.damaged-")]
    assert len(aside) == 1 and (store.parent / aside[0]).read_bytes() == b"garbage" * 200
    assert f"moved the store {store} aside to {store.parent / aside[0]}; starting afresh" in capsys.readouterr().err
    assert sqlite3.connect(store).execute("SELECT count(*) FROM evaluations").fetchone()[0] > 0


def test_two_runs_share_one_store(tiny_spec, tmp_path, capsys):
    shared = tmp_path / "shared" / "study.db"
    url = f"sqlite:///{os.path.relpath(shared)}"
    assert main(["run", tiny_spec, "--storage", url, "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    assert main(["run", tiny_spec, "--storage", url, "--out", str(tmp_path / "two")]) == 0
    rows = sqlite3.connect(shared).execute("SELECT count(*) FROM evaluations").fetchone()[0]
    assert f"search front: {rows} evaluations reused from study.db" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "one" / "evaluations.sqlite")
    first, second = (front_bytes(tmp_path / d) for d in ("one", "two"))
    assert first == second and json.loads(first)["front"]
    shutil.rmtree(tmp_path / "shared")


@pytest.mark.slow
def test_two_runs_at_once_share_one_store(tiny_spec, tmp_path):
    """Both write the shared store at the same time (WAL, a busy writer waits): both succeed, same front."""
    url = f"sqlite:///{tmp_path / 'study.db'}"  # an absolute path: sqlite:////tmp/...
    command = [sys.executable, "-c", "import sys; from stitchc.cli import main; sys.exit(main())", "run", tiny_spec]
    runs = [subprocess.Popen([*command, "--storage", url, "--out", str(tmp_path / d)]) for d in ("one", "two")]
    assert [r.wait() for r in runs] == [0, 0]
    assert front_bytes(tmp_path / "one") == front_bytes(tmp_path / "two")
    connection = sqlite3.connect(tmp_path / "study.db")
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
