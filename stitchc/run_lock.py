"""One run per run folder: an OS lock that a second `stitchc run` into the same folder meets before touching it.

The lock is `fcntl.flock` on a file beside the folder (`.NAME.lock` in its parent), never inside it: the folder
itself is renamed when a run publishes its results (see folder_swap.py), and a lock file that moved with it would
let a second run lock a fresh one. The kernel releases the lock when its process ends, however it ends (kill -9
included), so no stale lock ever needs removing; the file stays, holding the last holder's pid and start time
for the message a second run prints. Guarantees: while a RunLock is held, no other stitchc process holds one on
the same folder (on a local file system; flock is advisory, so other programs are not stopped).
"""

from __future__ import annotations

import fcntl
import os
import time


class RunFolderError(Exception):
    """The run folder cannot be locked; the message names the folder (or the lock file) and the cause."""


class FolderInUse(RunFolderError):
    """Another process holds the run folder; the message names the folder and the process."""


def lock_path(folder: str) -> str:
    """The lock file of a run folder: `.NAME.lock` beside it (beside the folder a symbolic link resolves to)."""
    parent, name = os.path.split(os.path.realpath(folder))
    return os.path.join(parent, f".{name}.lock")


class RunLock:
    """Holds the lock of a run folder from `acquire` to `release` (or the end of the process)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.handle: int | None = None

    def acquire(self) -> RunLock:
        """Takes the lock at once or raises FolderInUse (nothing in the folder is touched either way), or
        RunFolderError when the lock file cannot be written; creates the folder's parent when missing, to hold
        the lock file."""
        path = lock_path(self.folder)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise RunFolderError(f"{path}: cannot write the lock file ({error.strerror})") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 200).decode(errors="replace").split()
            os.close(handle)
            raise FolderInUse(f"{self.folder}: in use by {_describe(holder)}") from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()} {time.time():.0f}\n".encode())
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            os.close(self.handle)  # closing the descriptor releases the flock
            self.handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _describe(holder: list[str]) -> str:
    """'process 1234 (started 07:51)' from the lock file's 'pid start' (UTC, the date when not today)."""
    if len(holder) != 2 or not all(part.isdigit() for part in holder):
        return "another process"  # it holds the lock but has not written its pid yet
    started = time.gmtime(int(holder[1]))
    shown = "%H:%M" if started[:3] == time.gmtime()[:3] else "%Y-%m-%d %H:%M"
    return f"process {holder[0]} (started {time.strftime(shown, started)} UTC)"


class RunLocks:
    """The locks of several folders (a run's folder and its torch export folders), taken in a fixed order."""

    def __init__(self, folders: list[str]):
        distinct = {os.path.realpath(f): f for f in folders}
        self.locks = [RunLock(distinct[path]) for path in sorted(distinct)]

    def __enter__(self) -> RunLocks:
        try:
            for lock in self.locks:
                lock.acquire()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for lock in self.locks:
            lock.release()
