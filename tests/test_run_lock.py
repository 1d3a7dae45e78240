"""One run per run folder: a second `stitchc run` into a folder in use names the process holding it, exits
non-zero and touches nothing; the lock dies with its process (kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from stitchc.cli import main
from stitchc.run_lock import FolderInUse, RunFolderError, RunLock, RunLocks, lock_path

HOLD = "import sys, time; from stitchc.run_lock import RunLock; RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)"


def test_a_second_run_into_a_folder_in_use_names_the_holder_and_touches_nothing(tiny_spec, tmp_path, capsys):
    out = tmp_path / "out"
    with RunLock(str(out)):
        assert main(["run", tiny_spec]) == 2
    started = time.strftime("%H:%M", time.gmtime(os.stat(lock_path(str(out))).st_mtime))
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"stitchc: error: {out}: in use by process {os.getpid()} (started {started} UTC)"]
    assert not out.exists()  # nothing created, nothing written


def test_the_lock_dies_with_its_process_even_on_kill_9(tmp_path):
    folder = str(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, folder], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(FolderInUse) as caught:
            RunLock(folder).acquire()
        assert str(caught.value).startswith(f"{folder}: in use by process {holder.pid} (started ")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunLock(folder) as lock:  # no stale lock to remove
        assert lock.handle is not None


def test_a_holder_that_has_not_written_its_pid_yet_is_another_process(tmp_path):
    folder = str(tmp_path / "run")
    with RunLock(folder):
        os.truncate(lock_path(folder), 0)
        with pytest.raises(FolderInUse) as caught:
            RunLock(folder).acquire()
        assert str(caught.value) == f"{folder}: in use by another process"


def test_one_folder_named_twice_is_locked_once(tmp_path):
    folder = str(tmp_path / "run")
    with RunLocks([folder, folder + "/", os.path.join(folder, ".")]) as locks:
        assert len(locks.locks) == 1


def test_a_lock_file_that_cannot_be_written_is_one_line(tmp_path):
    folder = tmp_path / "run"
    os.makedirs(lock_path(str(folder)))  # a directory where the lock file goes
    with pytest.raises(RunFolderError) as caught:
        RunLock(str(folder)).acquire()
    assert str(caught.value) == f"{lock_path(str(folder))}: cannot write the lock file (Is a directory)"
