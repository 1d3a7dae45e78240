"""Training as a program step: `train = DATA.SPLIT(steps, lr, params, batch, seed)` in a search fine-tunes every
candidate before it is evaluated; the export reproduces what front.json reports, workers agree with one
process, and the setting's errors are one located line."""

from __future__ import annotations

import json
import pickle

import numpy as np
import onnx
import pytest

from stitchc.cli import main
from stitchc.evolve.metrics.accuracy import accuracy
from stitchc.evolve.objectives import scores
from tests.conftest import PROGRAM_SPEC

TRAINED = PROGRAM_SPEC.replace(
    "    algorithm  = nsga2(population = 16, generations = 3, seed = 1)",
    "    algorithm  = nsga2(population = 8, generations = 1, seed = 1)\n"
    "    train      = digits.train(steps = 15, lr = 1e-3, params = all, batch = 32)",
)


def _spec(tmp_path, parent_paths, text):
    path = tmp_path / "trained.stitch"
    path.write_text(text.format(a=parent_paths[0], b=parent_paths[1]))
    return str(path)


def test_trained_candidates_export_what_front_json_reports(tmp_path, parent_paths, digits):
    out = tmp_path / "out"
    assert main(["run", _spec(tmp_path, parent_paths, TRAINED), "--out", str(out), "--workers", "1"]) == 0
    document = json.loads((out / "front.json").read_text())
    trained = [p for p in document["front"] if any(s.startswith("train(all") for s in p["program"])]
    assert len(trained) == len(document["front"])  # params = all: every candidate trains, parents included
    for point in document["front"]:
        scored = accuracy(*scores(onnx.load(str(out / point["file"])), digits.val))
        assert scored == point["objectives"]["accuracy(digits.val)"]


def test_a_space_rebuilt_in_a_worker_trains_candidates_bit_for_bit_alike(program_space, digits):
    """What each worker process does: unpickle the space's recipe, rebuild the space, decode (and train)."""
    from stitchc.evolve.candidate_training import CandidateTraining
    from stitchc.evolve.genome_space import GenomeSpace
    from stitchc.evolve.space_recipe import SpaceRecipe
    from stitchc.grammar.program import TrainSpec

    space, _ = program_space()
    training = CandidateTraining(TrainSpec("digits", "train", 5, 1e-3, "all", 16, 0, None), digits.train)
    space = GenomeSpace(space.supernet, space.program, training)
    rebuilt = pickle.loads(pickle.dumps(SpaceRecipe.of(space))).build()
    genome = list(space.parent_genome(1))
    genome[space.switch_count] = 1  # widen the first Conv, then train
    (graph, steps), (twin, twin_steps) = space.decode(tuple(genome)), rebuilt.decode(tuple(genome))
    assert steps == twin_steps and steps[-1].startswith("train(all, steps = 5")
    layers = [[n.inputs[1].const for n in g.nodes if n.op in ("Conv", "Gemm")] for g in (graph, twin)]
    assert len(layers[0]) == len(layers[1]) and all(np.array_equal(a, b) for a, b in zip(*layers))


@pytest.mark.slow
def test_two_workers_train_the_candidates_one_process_trains(tmp_path, parent_paths):
    spec = _spec(tmp_path, parent_paths, TRAINED)
    fronts = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        assert main(["run", spec, "--out", str(out), "--workers", workers]) == 0
        fronts.append(json.loads((out / "front.json").read_text())["front"])
    assert fronts[0] == fronts[1]


@pytest.mark.parametrize(
    "setting, message",
    [
        ("digits.train(params = most)", "unknown params 'most'"),
        ("digits.train(lr = 0)", "'lr' must be a number in (0, 10]"),
        ("digits.train(steps = 0)", "'steps' must be at least 1, got 0"),
        ("digits.train(20)", "digits.train() takes keyword arguments steps, lr, params, batch, seed"),
        ("digits.trian(steps = 5)", "unknown split 'trian'"),
    ],
)
def test_bad_train_settings_are_located_errors(tmp_path, parent_paths, capsys, setting, message):
    text = TRAINED.replace("digits.train(steps = 15, lr = 1e-3, params = all, batch = 32)", setting)
    path = _spec(tmp_path, parent_paths, text)
    assert main(["check", path]) == 2
    error = capsys.readouterr().err
    assert f"{path}:12:" in error and message in error


def test_new_trains_what_the_steps_added_and_stitches_the_stitch_layers(program_space, digits):
    from stitchc.evolve.candidate_training import CandidateTraining
    from stitchc.grammar.program import TrainSpec

    space, _ = program_space()
    genome = list(space.parent_genome(1))
    genome[space.switch_count] = 1  # step 0: widen, at the first Conv
    graph, steps = space.decode(tuple(genome))
    assert steps and steps[0].startswith("widen(")
    supernet = space.supernet
    choose = {
        params: CandidateTraining(TrainSpec("digits", "train", 1, 1e-3, params, 8, 0, None), digits.train).trainable(
            graph, supernet.graph, set(supernet.choices)
        )
        for params in ("all", "new", "stitches")
    }
    widened = next(n for n in graph.nodes if n.op == "Conv")
    assert widened.inputs[1].name in choose["new"] and choose["new"] < choose["all"]
    assert choose["stitches"] == set()  # parent b alone uses no stitch
    stitched, _ = space.decode(
        space.supernet.stitch_genome(supernet.stitches[0]) + (0,) * (len(space.genes) - space.switch_count)
    )
    names = CandidateTraining(TrainSpec("digits", "train", 1, 1e-3, "stitches", 8, 0, None), digits.train).trainable(
        stitched, supernet.graph, set(supernet.choices)
    )
    assert names == {supernet.stitches[0].weight.name, supernet.stitches[0].bias.name}


def test_train_steps_is_an_objective_counting_the_training_of_each_candidate(tmp_path, parent_paths, capsys):
    """With `params = new`, a candidate without program steps is not trained (0 steps), one with steps is."""
    text = TRAINED.replace("params = all", "params = new").replace("minimize macs]", "minimize train_steps]")
    out = tmp_path / "out"
    assert main(["run", _spec(tmp_path, parent_paths, text), "--out", str(out), "--workers", "1"]) == 0
    document = json.loads((out / "front.json").read_text())
    assert [p["objectives"]["train_steps"] for p in document["parents"].values()] == [0, 0]
    for point in document["front"]:
        trained = any(s.startswith("train(") for s in point["program"])
        assert point["objectives"]["train_steps"] == (15 if trained else 0)
    axis = next(o for o in document["objectives"] if o["name"] == "train_steps")
    assert (axis["reference"], axis["ideal"]) == (16, 0)
    capsys.readouterr()
    untrained = PROGRAM_SPEC.replace("minimize macs]", "minimize train_steps]")
    assert main(["check", _spec(tmp_path, parent_paths, untrained)]) == 2
    assert "'train_steps' counts the search's training: add `train = DATA.SPLIT(...)`" in capsys.readouterr().err
