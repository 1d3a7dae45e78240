"""Program genes: morphism and mutation steps decoded after the switches, canonical, and run end to end."""

from __future__ import annotations

import json
import os

import onnx

from stitchc.cli import main
from stitchc.evolve.metrics.accuracy import accuracy
from stitchc.evolve.objectives import Evaluator, scores
from stitchc.grammar.checker import load_program


def _with_step(space, op, site=0, seed=0, slot=0):
    genome = list(space.parent_genome(1))
    start = space.switch_count + slot * space.program.per_slot
    genome[start : start + 3] = [op, site, seed]
    return tuple(genome)


def test_layout_and_canonical_form(program_space):
    space, _ = program_space()
    names = [g.name for g in space.genes[space.switch_count :]]
    assert names[:4] == ["step0", "step0.site", "step0.seed", "step0.widen.factor"]
    assert names[4] == "step0.jitter.rate" and len(names) == 2 * space.program.per_slot
    noisy = list(space.parent_genome(0))
    noisy[space.switch_count + 1 : space.switch_count + 3] = [3, 5]  # site and seed of a slot set to none
    assert space.canonical(tuple(noisy)) == space.parent_genome(0)


def test_morphism_steps_keep_accuracy_and_add_macs(program_space, digits):
    space, path = program_space()
    search = load_program(path).searches["front"]
    evaluate = Evaluator(space, search.objectives, {("digits", "val"): digits.val})
    parent = evaluate(space.parent_genome(1))
    for op in (1, 2):  # widen, deepen at the parent's first conv
        child = evaluate(_with_step(space, op))
        graph, steps = space.decode(_with_step(space, op))
        assert len(steps) == 1 and child.values[0] == parent.values[0] and child.macs > parent.macs
    mutated = evaluate(_with_step(space, 3, seed=1))
    assert mutated.macs == parent.macs and space.decode(_with_step(space, 3, seed=1))[1][0].startswith("jitter(")


def test_search_with_a_program_exports_its_steps(tmp_path, program_space, digits):
    _, path = program_space()
    out = tmp_path / "out"
    assert main(["run", path, "--out", str(out)]) == 0
    document = json.loads((out / "front.json").read_text())
    assert all(isinstance(p["program"], list) for p in document["front"])
    assert all(os.path.exists(out / p["file"]) for p in document["front"])
    steps = [s for p in document["front"] for s in p["program"]]
    assert all(s.split("(")[0] in ("widen", "deepen", "jitter") for s in steps)
    for point in document["front"]:  # the exported bytes carry the program's effect
        scored = accuracy(*scores(onnx.load(str(out / point["file"])), digits.val))
        assert scored == point["objectives"]["accuracy(digits.val)"]


def test_changing_a_fixed_transform_parameter_invalidates_stored_evaluations(tmp_path, program_space, capsys):
    _, path = program_space()
    out = str(tmp_path / "out")
    assert main(["run", path, "--out", out]) == 0
    text = open(path).read()
    open(path, "w").write(text.replace("sigma: float = 0.1", "sigma: float = 5.0"))
    capsys.readouterr()
    assert main(["run", path, "--out", out]) == 0
    assert "reused" not in capsys.readouterr().err
