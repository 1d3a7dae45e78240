"""Publishing a run folder in one swap: a reader sees the old run or the new one, never a mix; a failed or
killed publish leaves the old run whole (or, past the commit point, the new one), and write failures name the
file and the cause."""

from __future__ import annotations

import errno
import os

import pytest

from stitchc import report
from stitchc.folder_swap import MANIFEST, check_publishable, publish, recover
from stitchc.report import atomic_write, is_published


def _tree(folder) -> dict[str, bytes]:
    return {
        os.path.relpath(os.path.join(root, name), folder): open(os.path.join(root, name), "rb").read()
        for root, _, names in os.walk(folder)
        for name in names
    }


def _write(folder, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)


OLD = {"front.json": b"old", "front_00.onnx": b"o0", "front_01.onnx": b"o1", "report.html": b"oh", "front_00.pt2": b"p"}
OLD["front_02.onnx.tmp"] = b"left by a killed older stitchc"
KEPT = {"evaluations.sqlite": b"store", "cache/f.npy": b"features", "notes.txt": b"mine"}
NEW = {"front.json": b"new", "front_00.onnx": b"n0", "report.html": b"nh"}


@pytest.fixture()
def run_folder(tmp_path):
    folder = str(tmp_path / "run")
    _write(folder, {**OLD, **KEPT})
    return folder


def _siblings(folder) -> list[str]:
    return sorted(n for n in os.listdir(os.path.dirname(folder)) if n != os.path.basename(folder))


def test_publish_replaces_the_last_export_and_keeps_the_rest(run_folder):
    publish(run_folder, lambda staging: _write(staging, NEW), is_published)
    assert _tree(run_folder) == {**NEW, **KEPT}
    assert _siblings(run_folder) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES])
def test_a_write_that_fails_leaves_the_old_run_whole_and_names_the_final_file(run_folder, code):
    def write(staging):
        _write(staging, {"front_00.onnx": b"n0"})
        raise OSError(code, os.strerror(code), os.path.join(staging, "front_01.onnx"))

    with pytest.raises(OSError) as caught:
        publish(run_folder, write, is_published)
    assert (caught.value.filename, caught.value.strerror) == (
        os.path.join(run_folder, "front_01.onnx"),
        os.strerror(code),
    )
    assert _tree(run_folder) == {**OLD, **KEPT}
    assert _siblings(run_folder) == []


class FullDisk:
    """open() whose files take no byte: every write is ENOSPC."""

    def __init__(self, *args):
        self.handle = open(*args)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_at_export_is_one_line_and_the_last_run_stays(tiny_spec, tmp_path, monkeypatch, capsys):
    from stitchc.cli import main

    assert main(["run", tiny_spec]) == 0
    before = _tree(str(tmp_path / "out"))
    monkeypatch.setattr(report, "open", FullDisk, raising=False)
    assert main(["run", tiny_spec]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == f"stitchc: error: {tmp_path / 'out' / 'front_00.onnx'}: cannot write (No space left on device)"
    assert _tree(str(tmp_path / "out")) == before
    assert sorted(os.listdir(tmp_path)) == [".out.lock", "out", "tiny.stitch"]


def test_atomic_write_on_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "front.json")
    atomic_write(path, b"old")
    monkeypatch.setattr(report, "open", FullDisk, raising=False)
    with pytest.raises(OSError) as caught:
        atomic_write(path, b"new")
    assert (caught.value.filename, caught.value.errno) == (path, errno.ENOSPC)
    assert os.listdir(tmp_path) == ["front.json"] and open(path, "rb").read() == b"old"


def _sibling(folder, suffix):
    return os.path.join(os.path.dirname(folder), f".{os.path.basename(folder)}.{suffix}")


def test_recover_before_the_manifest_drops_the_staging_folder(run_folder):
    _write(_sibling(run_folder, "new"), {"front_00.onnx": b"n0"})
    recover(run_folder)
    assert _tree(run_folder) == {**OLD, **KEPT} and _siblings(run_folder) == []


def test_recover_during_the_moves_gives_back_what_was_moved(run_folder):
    staging = _sibling(run_folder, "new")
    _write(staging, {**NEW, MANIFEST: "\n".join(NEW).encode()})
    os.rename(os.path.join(run_folder, "cache"), os.path.join(staging, "cache"))
    os.rename(os.path.join(run_folder, "evaluations.sqlite"), os.path.join(staging, "evaluations.sqlite"))
    recover(run_folder)
    assert _tree(run_folder) == {**OLD, **KEPT} and _siblings(run_folder) == []


@pytest.mark.parametrize("moment", ["committed", "old moved aside", "new moved in"])
def test_recover_after_the_commit_point_finishes_the_swap(run_folder, moment):
    ready = _sibling(run_folder, "ready")
    _write(ready, {**NEW, **KEPT, MANIFEST: b""})
    if moment != "committed":
        os.rename(run_folder, _sibling(run_folder, "old"))
    if moment == "new moved in":
        os.rename(ready, run_folder)
    recover(run_folder)
    assert _tree(run_folder) == {**NEW, **KEPT} and _siblings(run_folder) == []


def test_a_run_folder_around_the_working_directory_is_refused_before_any_work(tiny_spec, tmp_path, monkeypatch, capsys):
    from stitchc.cli import main

    os.makedirs(tmp_path / "out" / "inner")
    monkeypatch.chdir(tmp_path / "out" / "inner")
    assert main(["run", tiny_spec]) == 2
    cause = "it contains the working directory; choose another folder or run from elsewhere"
    assert capsys.readouterr().err.splitlines()[-1] == f"stitchc: error: {tmp_path / 'out'}: cannot write ({cause})"


def test_a_run_folder_behind_a_symbolic_link_is_swapped_where_it_is_and_the_link_stays(run_folder, tmp_path):
    link = str(tmp_path / "link")
    os.symlink(run_folder, link)
    publish(link, lambda staging: _write(staging, NEW), is_published)
    assert os.path.islink(link) and _tree(link) == {**NEW, **KEPT}
    assert sorted(os.listdir(tmp_path)) == ["link", "run"]


def test_a_mount_point_is_refused():
    with pytest.raises(OSError) as caught:
        check_publishable("/")
    assert caught.value.strerror == "it is a mount point; choose a folder inside it"
