"""Publishing a run folder atomically: a reader sees the old run or the new one, never a mix.

`publish(folder, write, replaced)` writes the new content into a sibling staging folder (`.NAME.new`, same file
system), lists what it wrote in a manifest, moves every entry of the old folder that the new content does not
replace (the store, the feature cache, the user's own files) into it, renames it `.NAME.ready` (the commit
point), then swaps: the old folder becomes `.NAME.old`, `.NAME.ready` becomes the folder, `.NAME.old` is
deleted. Every step is a rename within one file system, so a kill leaves one of a few states, and `recover(folder)` (run before any use of the folder)
brings each back to a whole folder: before the commit point it returns the moved entries and drops the staging
folder (the old run stays); after it, it finishes the swap (the new run). A failure while writing (a full disk)
undoes the same way and re-raises, so nothing already written is lost. Callers hold the folder's RunLock.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable

from stitchc.evolve.pause_points import pause_point

MANIFEST = ".stitchc-written"  # in a staging folder: the names its new content has (the rest was moved in)


def check_publishable(folder: str) -> None:
    """Raises OSError when the folder cannot be swapped: it is a mount point, or the working directory is
    inside it (a swap would move the process's own directory aside and delete it)."""
    real = os.path.realpath(folder)
    if os.path.ismount(real):
        raise OSError(errno.EBUSY, "it is a mount point; choose a folder inside it", folder)
    inside = os.path.relpath(os.path.realpath(os.getcwd()), real)
    if inside == os.curdir or not inside.startswith(os.pardir):
        raise OSError(
            errno.EBUSY, "it contains the working directory; choose another folder or run from elsewhere", folder
        )


def _sibling(folder: str, suffix: str) -> str:
    """`.NAME.SUFFIX` beside the folder a symbolic link resolves to (the swap happens there; the link stays)."""
    parent, name = os.path.split(os.path.realpath(folder))
    return os.path.join(parent, f".{name}.{suffix}")


def publish(folder: str, write: Callable[[str], None], replaced: Callable[[str], bool]) -> None:
    """Makes `folder` hold what `write(staging)` writes plus the entries of the old folder for which
    `replaced(name)` is false, in one swap."""
    recover(folder)
    folder = os.path.realpath(folder)
    staging, ready, retired = (_sibling(folder, s) for s in ("new", "ready", "old"))
    os.makedirs(folder, exist_ok=True)
    os.makedirs(staging)
    try:
        write(staging)
        pause_point("export")
        _write_manifest(staging)
        for name in os.listdir(folder):
            if not replaced(name) and not os.path.exists(os.path.join(staging, name)):
                os.rename(os.path.join(folder, name), os.path.join(staging, name))
        os.rename(staging, ready)
    except OSError as error:  # named by the file it would have become
        recover(folder)
        raise OSError(
            error.errno, error.strerror, _final_name(str(error.filename or folder), staging, folder)
        ) from None
    except BaseException:
        recover(folder)
        raise
    _swap(folder, ready, retired)


def _final_name(path: str, staging: str, folder: str) -> str:
    """A path in the staging folder as the path it gets in the published folder."""
    inside = os.path.relpath(os.path.abspath(path), staging)
    return path if inside.startswith(os.pardir) else os.path.join(folder, inside)


def _write_manifest(staging: str) -> None:
    """Names what the staging folder holds now (written whole: a kill leaves it complete or absent)."""
    path = os.path.join(staging, MANIFEST)
    with open(path + ".tmp", "w") as handle:
        handle.write("\n".join(os.listdir(staging)))
    os.rename(path + ".tmp", path)


def _swap(folder: str, ready: str, retired: str) -> None:
    if os.path.isdir(folder):
        shutil.rmtree(retired, ignore_errors=True)
        os.rename(folder, retired)
    pause_point("swap")
    os.rename(ready, folder)
    _remove_leftovers(folder, retired)


def _remove_leftovers(folder: str, retired: str) -> None:
    shutil.rmtree(retired, ignore_errors=True)
    if os.path.exists(os.path.join(folder, MANIFEST)):
        os.remove(os.path.join(folder, MANIFEST))


def recover(folder: str) -> None:
    """Brings a folder that a killed or failed publish left half swapped back to one whole run (see the module
    docstring); removes leftover staging and retired folders. A no-op on a folder in order."""
    folder = os.path.realpath(folder)
    staging, ready, retired = (_sibling(folder, s) for s in ("new", "ready", "old"))
    if os.path.isdir(ready):  # committed: finish the swap
        _swap(folder, ready, retired)
    elif not os.path.exists(folder) and os.path.isdir(retired):
        os.rename(retired, folder)
    if os.path.isdir(staging):  # not committed: give back what was moved in, drop the new content
        _give_back(staging, folder)
    _remove_leftovers(folder, retired)


def _give_back(staging: str, folder: str) -> None:
    """Moves the entries that came from `folder` (those not in the manifest) back, then deletes `staging`;
    without a manifest nothing was moved yet."""
    manifest = os.path.join(staging, MANIFEST)
    if os.path.exists(manifest):
        with open(manifest) as handle:
            written = set(handle.read().split("\n")) | {MANIFEST}
        os.makedirs(folder, exist_ok=True)
        for name in set(os.listdir(staging)) - written:
            os.rename(os.path.join(staging, name), os.path.join(folder, name))
    shutil.rmtree(staging)
