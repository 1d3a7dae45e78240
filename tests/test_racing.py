"""Racing: candidates are stopped only when a fully evaluated point dominates their optimistic bound; the others
get exactly their values without racing; the setting is checked with located errors."""

from __future__ import annotations

import random

import pytest

from stitchc.cli import main
from stitchc.evolve.batch_evaluation import evaluate_batch
from stitchc.evolve.objectives import Evaluator
from stitchc.evolve.racing import Racing
from stitchc.grammar.checker import load_program

SPEC = """stitch 1
data d = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{ fit = d.train(samples = 256) }}
search front over ab {{
    algorithm  = nsga2(population = 8, generations = 1, seed = 1)
    objectives = [maximize accuracy(d.val), minimize macs]
    racing     = 0.95
}}
"""


@pytest.fixture()
def write(tmp_path, parent_paths):
    def spec(old: str = "", new: str = "") -> str:
        text = SPEC.format(a=parent_paths[0], b=parent_paths[1])
        assert old in text
        path = tmp_path / "spec.stitch"
        path.write_text(text.replace(old, new, 1))
        return str(path)

    return spec


def test_the_setting_reaches_the_search(write):
    assert load_program(write()).searches["front"].racing == 0.95
    assert load_program(write("    racing     = 0.95\n", "")).searches["front"].racing is None


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "racing     = 0.95",
            "racing     = 1.5",
            "9:18: error: 'racing' must be a confidence between 0 and 1, such as 0.95",
        ),
        (
            "maximize accuracy(d.val)",
            "maximize f1(d.val)",
            "9:18: error: racing needs data objectives that are accuracy, top5, topk; not f1(d.val)",
        ),
    ],
)
def test_racing_mistakes(write, capsys, old, new, expected):
    path = write(old, new)
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:{expected}" and "Traceback" not in err


def test_only_dominated_candidates_stop_and_the_others_keep_their_values(program_space, digits):
    space, path = program_space()
    objectives = load_program(path).searches["front"].objectives
    splits = {("digits", "val"): digits.val}
    plain = Evaluator(space, objectives, splits)
    raced = Evaluator(space, objectives, splits, racing=Racing(0.95))
    rng = random.Random(2)
    genomes = list(dict.fromkeys(space.canonical(space.sample(rng, p_on=0.5)) for _ in range(24)))
    parents = [space.parent_genome(i) for i in range(2)]
    for evaluator in (plain, raced):
        run = lambda tasks, e=evaluator: [e.scores(t) for t in tasks]  # noqa: E731
        evaluate_batch(evaluator, parents, run)
        evaluate_batch(evaluator, genomes, run)
    stopped = set(raced.racing.stopped)
    assert 0 < len(stopped) < len(genomes) and raced.stats.stopped == len(stopped)
    for genome in genomes:
        if genome not in stopped:
            assert raced.cache[genome] == plain.cache[genome]
            continue
        accuracy, macs = plain.cache[genome].values  # the truth: dominated by a parent, as racing bet
        assert any(p[0] >= accuracy and p[1] <= macs for p in (plain.cache[g].values for g in parents))
    assert raced.stats.macs_done < plain.stats.macs_done


def test_a_run_with_racing_counts_what_it_stopped_and_keys_the_store_by_it(write, tmp_path, capsys):
    import json

    out = tmp_path / "out"
    assert main(["run", write(), "--out", str(out)]) == 0
    stats = json.loads((out / "front.json").read_text())["stats"]
    assert stats["evaluations"] > 0 and "stopped_by_racing" in stats
    capsys.readouterr()
    assert main(["run", write("    racing     = 0.95\n", ""), "--out", str(out)]) == 0
    assert "reused" not in capsys.readouterr().err  # raced values are not taken for a run without racing
