"""The Ray executor (`stitchc run --executor ray`) on a local 2-CPU cluster, started once for the module: actors
rebuild the space from the object store and evaluate as this process does, and a run writes the front of the
local executor, compared field by field (bench/compare_fronts.py). Skipped when Ray is not installed
(`pip install -e ".[ray]"`); `pytest -m slow tests/test_ray_executor.py` adds specs/digits.stitch itself."""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys

import pytest

from stitchc.cli import main

ray = pytest.importorskip("ray")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join(ROOT, "specs")
SMALL = {
    "population = 32, seed = 1)": "population = 16, seed = 1)",
    "budget     = 60": "budget     = 24",
    "samples = 1024": "samples = 256",
}


def _compare():
    spec = importlib.util.spec_from_file_location("compare_fronts", os.path.join(ROOT, "bench", "compare_fronts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_differences = _compare().run_differences


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster of 2 CPUs for the module (about 5 s to start), stopped after its last test."""
    from stitchc.evolve.ray_executor import RayCluster

    with RayCluster(workers=2) as connected:
        yield connected


@pytest.fixture()
def small_spec(tmp_path):
    """specs/digits.stitch with a shorter search (16 × 3 generations) fitted on 256 samples, its model paths
    made absolute."""
    text = open(os.path.join(SPECS, "digits.stitch")).read()
    for old, new in {**SMALL, 'onnx("models/': f'onnx("{SPECS}/models/'}.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "small.stitch"
    path.write_text(text)
    return str(path)


def test_actors_evaluate_as_this_process_does(cluster, program_space, digits):
    from stitchc.evolve.objectives import Evaluator
    from stitchc.evolve.ray_executor import RayCluster
    from stitchc.grammar.checker import load_program

    space, spec = program_space()
    objectives = load_program(spec).searches["front"].objectives
    rng = random.Random(3)
    genomes = list(dict.fromkeys(space.canonical(space.sample(rng, p_on=0.5)) for _ in range(10)))
    local = Evaluator(space, objectives, {("digits", "val"): digits.val})
    with cluster.executor(Evaluator(space, objectives, {("digits", "val"): digits.val})) as executor:
        assert len(executor.actors) == 2 == RayCluster(workers=5).actors()  # never more actors than CPUs
        assert executor.evaluate_many(genomes) == [local(g) for g in genomes]  # computed by the actors
        assert executor.map(genomes[:4] + genomes[:2]) == [local(g) for g in genomes[:4] + genomes[:2]]


@pytest.mark.slow
def test_a_run_on_ray_writes_the_local_front(cluster, small_spec, tmp_path):
    """In this process, already connected: the CLI uses the module's cluster as it is."""
    assert main(["run", small_spec, "--out", str(tmp_path / "local")]) == 0
    assert main(["run", small_spec, "--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    assert run_differences(str(tmp_path / "local"), str(tmp_path / "ray")) == []
    assert ray.is_initialized()  # a connection the run did not make is left open


def test_a_run_at_an_address_is_quiet_and_gives_the_same_front(cluster, small_spec, tmp_path):
    """A separate `stitchc` process connects to the module's cluster by address; nothing Ray logs reaches the
    terminal: stderr holds stitchc's own lines only."""
    address = ray.get_runtime_context().gcs_address
    assert main(["run", small_spec, "--out", str(tmp_path / "local")]) == 0
    command = [sys.executable, "-m", "stitchc.cli", "run", small_spec, "--out", str(tmp_path / "ray")]
    done = subprocess.run(
        [*command, "--executor", "ray", "--address", address], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert run_differences(str(tmp_path / "local"), str(tmp_path / "ray")) == []
    own = (
        "stitchc 0.1.0: running ",
        "loaded ",
        "matched ",
        "stitch ab:",
        "  generation ",
        "search front",
        "measured ",
        "wrote ",
    )
    assert [line for line in done.stderr.splitlines() if not line.startswith(own)] == []


def test_a_failing_evaluation_is_the_one_line_of_a_local_run(cluster, small_spec, tmp_path, capsys):
    """A user metric that raises inside an actor: the run stops with the line a local run prints."""
    (tmp_path / "bad.py").write_text("def score(scores, labels):\n    raise ValueError('no score today')\n")
    text = open(small_spec).read().replace("maximize accuracy(digits.val)", "maximize bad(digits.val)")
    spec = tmp_path / "bad.stitch"
    spec.write_text(text.replace("\nsearch ", '\nmetric bad = python("bad.py:score")\nsearch ', 1))
    errors = []
    for options in ([], ["--executor", "ray"]):
        assert main(["run", str(spec), "--out", str(tmp_path / "out"), *options]) == 2
        errors.append(capsys.readouterr().err.splitlines()[-1])  # the phases' lines carry their times
    assert errors[0] == errors[1]
    assert errors[0].startswith("stitchc: error: ") and "no score today" in errors[0]


@pytest.mark.slow
def test_digits_on_ray_writes_the_local_front(cluster, tmp_path):
    spec = os.path.join(SPECS, "digits.stitch")
    assert main(["run", spec, "--out", str(tmp_path / "local")]) == 0
    assert main(["run", spec, "--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    assert run_differences(str(tmp_path / "local"), str(tmp_path / "ray")) == []
