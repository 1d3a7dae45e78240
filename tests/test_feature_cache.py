"""The feature cache: damaged files (zeroed, bit-flipped, truncated, unchecked) are recomputed and said so;
a full disk is an OSError naming the file and leaves no partial file; partial files of a killed run go."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from stitchc.stitch import feature_cache
from stitchc.stitch.feature_cache import cached_features
from stitchc.stitch.feature_reader import FeatureReader
from stitchc.stitch.points import stitch_points


@pytest.fixture()
def cached(parents, digits, tmp_path):
    """(compute: the cached features of parent a's points, the fresh features, the .npy files)."""
    graph, x = parents[0], digits.train.x[:48]
    points = stitch_points(graph)

    def compute():
        found = cached_features(graph, points, x, str(tmp_path))
        return [np.array(found[id(p.value)]) for p in points]

    fresh = compute()
    files = sorted(str(tmp_path / f) for f in os.listdir(tmp_path) if f.endswith(".npy"))
    return compute, fresh, files


def _damage(path: str, rng: np.random.Generator) -> str:
    """Applies one random kind of damage that changes the file; returns its kind."""
    original = open(path, "rb").read()
    data = bytearray(original)
    kind = ["flip", "zero", "truncate", "extend", "checksum"][int(rng.integers(5))]
    if kind == "flip":
        for position in rng.integers(0, len(data), int(rng.integers(1, 4))):
            data[position] ^= 1 << int(rng.integers(8))
    elif kind == "zero":
        start = int(rng.integers(0, len(data) - 1))
        end = start + int(rng.integers(1, len(data) - start + 1))
        data[start:end] = bytes(end - start)
    elif kind == "truncate":
        del data[int(rng.integers(0, len(data))) :]
    elif kind == "extend":
        data += b"\0" * int(rng.integers(1, 64))
    else:
        os.remove(path + ".b2")
        return kind
    if bytes(data) == original:  # zeroes written over zeroes: draw again
        return _damage(path, rng)
    open(path, "wb").write(bytes(data))
    return kind


def _corruption_trials(cached, capfd, trials: int, seed: int) -> dict[str, int]:
    compute, fresh, files = cached
    rng, kinds = np.random.default_rng(seed), {}
    for _ in range(trials):
        path = files[int(rng.integers(len(files)))]
        kind = _damage(path, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        again = compute()
        for expected, actual in zip(fresh, again):
            np.testing.assert_array_equal(actual, expected)
        warning = capfd.readouterr().err
        assert warning.startswith(f"stitchc: warning: feature cache {path}: ") and warning.endswith("; recomputing\n")
        assert warning.count("\n") == 1
    return kinds


def test_damaged_files_are_recomputed_with_one_line(cached, capfd):
    kinds = _corruption_trials(cached, capfd, trials=25, seed=0)
    assert set(kinds) == {"flip", "zero", "truncate", "extend", "checksum"}


@pytest.mark.slow
def test_damaged_files_fuzz_long(cached, capfd):
    """pytest -m slow tests/test_feature_cache.py: 1,000 random damages, every one recomputed and said."""
    kinds = _corruption_trials(cached, capfd, trials=1000, seed=1)
    print(kinds)


def test_a_zeroed_file_of_the_right_size_is_caught(cached, capfd):
    compute, fresh, files = cached
    size = os.path.getsize(files[0])
    with open(files[0], "r+b") as file:
        file.seek(128)
        file.write(bytes(size - 128))
    for expected, actual in zip(fresh, compute()):
        np.testing.assert_array_equal(actual, expected)
    assert capfd.readouterr().err == (
        f"stitchc: warning: feature cache {files[0]}: content does not match its checksum (damaged); recomputing\n"
    )


def test_an_intact_cache_is_read_silently(cached, capfd):
    compute, fresh, _ = cached
    capfd.readouterr()
    for expected, actual in zip(fresh, compute()):
        np.testing.assert_array_equal(actual, expected)
    assert capfd.readouterr().err == ""


class _FullDisk:
    """A file that accepts `room` bytes, then fails as a full disk does."""

    def __init__(self, path: str, room: int):
        self.file, self.room = open(path, "wb"), room  # noqa: SIM115

    def write(self, data) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()


def test_a_full_disk_names_the_file_and_leaves_no_partial_file(parents, digits, tmp_path, monkeypatch):
    real_open = open
    monkeypatch.setattr(
        feature_cache,
        "open",
        lambda path, mode="r": _FullDisk(path, 5000) if mode == "wb" else real_open(path, mode),
        raising=False,
    )
    graph = parents[0]
    with pytest.raises(OSError) as raised:
        cached_features(graph, stitch_points(graph), digits.train.x[:48], str(tmp_path))
    assert raised.value.errno == errno.ENOSPC and raised.value.filename.endswith(".npy.partial")
    assert str(raised.value) == f"[Errno 28] No space left on device: '{raised.value.filename}'"
    assert os.listdir(tmp_path) == []


def test_partial_files_of_a_killed_run_are_removed(parents, digits, tmp_path):
    stale = ["a-0123-0.npy.partial", "a-0123-0.npy.b2.partial", "a-0123-1.npy.partial.npy"]
    for name in stale:
        (tmp_path / name).write_bytes(b"\0" * 100)
    (tmp_path / "keep.txt").write_text("not ours")
    graph = parents[0]
    cached_features(graph, stitch_points(graph), digits.train.x[:16], str(tmp_path))
    names = os.listdir(tmp_path)
    assert not set(stale) & set(names) and "keep.txt" in names


def test_features_read_on_demand_equal_the_cached_ones(parents, digits, tmp_path):
    """Refinement reads features on demand (nothing on disk): bit for bit what the cache holds, any rows."""
    graph, x = parents[0], digits.train.x[:96]
    points = stitch_points(graph)
    cached = cached_features(graph, points, x, str(tmp_path))
    reader = FeatureReader([(graph, points)], x)
    for rows in (np.arange(96), np.array([5]), np.sort(np.random.default_rng(0).permutation(96)[:32])):
        read = reader(rows)
        for p in points:
            np.testing.assert_array_equal(read[id(p.value)], cached[id(p.value)][rows])
