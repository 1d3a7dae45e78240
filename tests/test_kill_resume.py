"""kill -9 at named moments of a run (fitting, search, export, the folder swap), then a rerun: the run folder
is never a mix of two runs, the store passes `PRAGMA integrity_check`, and the rerun's front.json is byte for
byte the one of an uninterrupted run. The slow test kills the MNIST example at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import onnx
import pytest

from stitchc.cli import main
from stitchc.metadata import read
from tests.conftest import front_bytes

SPECS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs")
RUN = [sys.executable, "-c", "import sys; from stitchc.cli import main; sys.exit(main())", "run"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_spec_text):
    """front.json of an uninterrupted run of the tiny spec."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "tiny.stitch").write_text(tiny_spec_text)
    assert main(["run", str(folder / "tiny.stitch")]) == 0
    return front_bytes(folder / "out")


def _run_until_paused(spec: str, point: str) -> None:
    """Runs the spec in a process that stops at the named point, and kills it there with SIGKILL."""
    env = {**os.environ, "STITCHC_TEST_PAUSE_AT": point}
    process = subprocess.Popen([*RUN, spec], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in process.stderr:
            if line.startswith("stitchc: paused at"):
                break
        else:
            raise AssertionError(f"the run ended (exit {process.wait()}) without reaching {point}")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def assert_consistent(folder: str) -> None:
    """Every front_NN.onnx is listed in front.json and carries the genome front.json gives it, and back."""
    if not os.path.exists(os.path.join(folder, "front.json")):
        assert not [n for n in os.listdir(folder) if n.startswith("front_")] if os.path.isdir(folder) else True
        return
    with open(os.path.join(folder, "front.json")) as handle:
        listed = {p["file"]: p["genome"] for p in json.load(handle)["front"]}
    files = sorted(n for n in os.listdir(folder) if n.startswith("front_"))
    assert files == sorted(listed)
    for name in files:
        assert read(onnx.load(os.path.join(folder, name)))["genome"] == listed[name]


def assert_store_whole(path: str) -> None:
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()


def _previous_run(spec: str) -> None:
    """A finished run of another seed in the folder: what an interrupted export must leave whole."""
    with open(spec) as handle:
        text = handle.read()
    with open(spec, "w") as handle:
        handle.write(text.replace("seed = 1)", "seed = 7)"))
    assert main(["run", spec]) == 0
    with open(spec, "w") as handle:
        handle.write(text)


@pytest.mark.parametrize(
    "point",
    [
        pytest.param("fit", marks=pytest.mark.slow),
        "evaluation:5",
        "export",
        pytest.param("swap", marks=pytest.mark.slow),
    ],
)
def test_kill_at_a_named_moment_then_rerun_gives_the_same_front(tiny_spec, reference, point, capsys):
    out = os.path.join(os.path.dirname(tiny_spec), "out")
    if point in ("export", "swap"):
        _previous_run(tiny_spec)
    _run_until_paused(tiny_spec, point)
    assert_consistent(out)
    assert main(["run", tiny_spec]) == 0
    assert front_bytes(out) == reference
    assert_consistent(out)
    assert_store_whole(os.path.join(out, "evaluations.sqlite"))
    assert sorted(os.listdir(os.path.dirname(out))) == [".out.lock", "out", "tiny.stitch"]  # no staging left
    if point == "evaluation:5":
        assert "search front: 5 evaluations reused from evaluations.sqlite" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_the_mnist_example_at_random_moments(tmp_path):
    """`pytest -m slow -s tests/test_kill_resume.py`: five kill -9 at seeded random moments of specs/mnist.stitch,
    the first during a run from scratch, each next one during the rerun of the last (so they land in fitting,
    search and export of resumed runs; a rerun that finishes first is checked too); after each kill the folder
    is never a mix and the store passes integrity_check; the final rerun's front.json equals the uninterrupted
    run's, byte for byte."""
    spec = os.path.join(SPECS, "mnist.stitch")
    reference_dir, killed_dir, log = str(tmp_path / "reference"), str(tmp_path / "killed"), tmp_path / "log"
    started = time.perf_counter()
    assert subprocess.run([*RUN, spec, "--out", reference_dir], capture_output=True).returncode == 0
    duration = time.perf_counter() - started
    expected = front_bytes(reference_dir)
    rng, window, kills = random.Random(14), duration, []
    for _ in range(15):  # a resumed run is shorter: the window shrinks to the last finished run's length
        if len(kills) == 5:
            break
        moment = rng.uniform(0.1, 0.9) * window
        with open(log, "w") as handle:
            started = time.perf_counter()
            process = subprocess.Popen([*RUN, spec, "--out", killed_dir], stdout=subprocess.DEVNULL, stderr=handle)
            try:
                process.wait(timeout=moment)  # finished first: then it must be right
                assert process.returncode == 0 and front_bytes(killed_dir) == expected
                window = time.perf_counter() - started
                print(f"a rerun finished in {window:.1f} s, before its kill at {moment:.1f} s: same front")
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                said = [line for line in log.read_text().splitlines() if line.startswith(("stitch", "  gen", "search"))]
                kills.append(moment)
                print(f"kill {len(kills)} at {moment:.1f} s, after: {(said or ['(nothing yet)'])[-1][:100]}")
        assert_consistent(killed_dir)
        if os.path.exists(os.path.join(killed_dir, "evaluations.sqlite")):
            assert_store_whole(os.path.join(killed_dir, "evaluations.sqlite"))
    assert len(kills) == 5, f"only {len(kills)} kills landed in 15 runs"
    rerun = subprocess.run([*RUN, spec, "--out", killed_dir], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert front_bytes(killed_dir) == expected
    assert_store_whole(os.path.join(killed_dir, "evaluations.sqlite"))
