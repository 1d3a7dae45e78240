"""Growth search over one model: the stopping policy, the spec's errors, and (slow) specs/grow.stitch, whose front
must hold a grown-and-trained candidate that beats its equally trained parent on validation and test."""

from __future__ import annotations

import json
import os

import pytest

from stitchc.cli import main
from stitchc.evolve.growth import grow
from stitchc.evolve.objectives import Evaluation
from stitchc.grammar.program import GrowthSpec

SPECS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs")

GROW = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
morphism widen(layer: Conv, factor: int in 2..3 = 2) = net2wider
morphism skip(layer: Conv) = skip_add
search grow over a {{
    genome     = {genome}
    algorithm  = {algorithm}
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
"""


def _spec(tmp_path, parent_paths, genome="program(widen, skip, max = 3)", algorithm="grow(patience = 1)"):
    path = tmp_path / "grow.stitch"
    path.write_text(GROW.format(a=parent_paths[0], genome=genome, algorithm=algorithm))
    return str(path)


def _scripted(space, accuracies):
    """An evaluator scoring each genome by how many program steps it has: accuracies[steps]."""

    def evaluate(genomes):
        return [Evaluation(g, (accuracies[len(space.decode(g, train=False)[1])], 1.0), 0, 0) for g in genomes]

    return evaluate


def test_growth_stops_after_patience_steps_without_gain(program_space):
    space, _ = program_space()
    calls = []

    def report(step, archive):
        calls.append(step)

    flat = grow(space, _scripted(space, [0.5, 0.6, 0.6, 0.6]), (1.0, -1.0), GrowthSpec(patience=1), report)
    assert calls == [0, 1, 2]  # the parent, then step 2 gained nothing: stop
    assert max(e.values[0] for e in flat) == 0.6
    calls.clear()
    grow(space, _scripted(space, [0.5, 0.6, 0.6, 0.6]), (1.0, -1.0), GrowthSpec(patience=2), report)
    assert calls == [0, 1, 2]  # the program has two slots: full after step 2
    calls.clear()
    grow(space, _scripted(space, [0.5, 0.52, 0.6]), (1.0, -1.0), GrowthSpec(patience=1, min_gain=0.05), report)
    assert calls == [0, 1]  # +0.02 is below min_gain


def test_a_one_model_search_without_training_keeps_its_parent(tmp_path, parent_paths, capsys):
    """Exact morphisms without training keep the accuracy and add MACs: every grown candidate is dominated, so
    growth stops after one step and the front is the parent alone."""
    out = tmp_path / "out"
    assert main(["run", _spec(tmp_path, parent_paths), "--out", str(out), "--workers", "1"]) == 0
    document = json.loads((out / "front.json").read_text())
    assert [p["choices"] for p in document["parents"].values()] == [{"output": "a"}]
    assert [p["program"] for p in document["front"]] == [[]]
    assert "grow (grow): 5 distinct candidates evaluated, 1 on the front" in capsys.readouterr().err


@pytest.mark.parametrize(
    "genome, algorithm, message",
    [
        ("switches", "nsga2(population = 8, generations = 1)", "search 'grow' over model 'a' has nothing to search"),
        ("program(widen, max = 2)", "grow(patience = 0)", "'patience' must be at least 1, got 0"),
        ("program(widen, max = 2)", "grow(min_gain = 2)", "'min_gain' must be a number in [0, 1]"),
        ("program(widen, max = 2)", "grows()", "unknown function 'grows'"),
    ],
)
def test_bad_growth_searches_are_located_errors(tmp_path, parent_paths, capsys, genome, algorithm, message):
    assert main(["check", _spec(tmp_path, parent_paths, genome, algorithm)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_grow_spec_front_holds_a_grown_candidate_beating_its_trained_parent(tmp_path):
    out = tmp_path / "grow"
    assert main(["run", os.path.join(SPECS, "grow.stitch"), "--out", str(out)]) == 0
    document = json.loads((out / "front.json").read_text())
    parent = document["parents"]["a"]
    grown = [p for p in document["front"] if len(p["program"]) > 1]  # at least one morphism, then training

    def beats(point, split):
        key = f"accuracy(digits.{split})"
        scores, parent_scores = ({**p["objectives"], **p["test"]} for p in (point, parent))
        return scores[key] > parent_scores[key]

    assert any(beats(p, "val") and beats(p, "test") for p in grown)
