"""The search algorithms behind one interface: budgets of distinct evaluations, linkage learning, and resume
from the per-generation checkpoint (counts of evaluations actually performed), on a toy problem with canonical
repeats and on a real spec."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from stitchc.cli import main
from stitchc.evolve.algorithm import Problem
from stitchc.evolve.algorithms import ALGORITHMS, make_algorithm
from stitchc.evolve.hypervolume import Axis
from stitchc.evolve.linkage import linkage_tree
from stitchc.evolve.objectives import Evaluation
from stitchc.evolve.run_store import RunStore
from stitchc.evolve.search_loop import search
from tests.conftest import front_bytes

SPECS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs")
CARDINALITIES = [2] * 12 + [3, 3, 3, 3]


def _key(genome) -> tuple[int, ...]:
    """Canonical genome: genes 12..15 count only where the bit before them (8..11) is set."""
    g = list(genome)
    for i in range(12, 16):
        g[i] = g[i] if g[i - 4] else 0
    return tuple(g)


def _values(key) -> tuple[int, int, int]:
    """Three conflicting objectives: maximize, minimize, maximize."""
    return (sum(key[0:4]) + 2 * key[4] + 3 * key[5] + sum(key[12:16]), sum(key[:12]), sum(key[6:9]) - key[0] + key[9])


class Toy:
    """An evaluator with a persistent store (as the run store): `performed` counts evaluations actually made;
    it raises Killed on the call numbered `kill_at` (a kill in the middle of a generation)."""

    def __init__(self, store: dict | None = None, kill_at: int | None = None):
        self.store = {} if store is None else store
        self.performed, self.calls, self.kill_at = 0, 0, kill_at

    def __call__(self, genomes) -> list[Evaluation]:
        self.calls += 1
        if self.calls == self.kill_at:
            raise Killed
        results = []
        for genome in genomes:
            key = _key(genome)
            if key not in self.store:
                self.performed += 1
                self.store[key] = Evaluation(key, _values(key), 0, 0)
            results.append(self.store[key])
        return results


class Killed(Exception):
    pass


def _problem(population: int = 12) -> Problem:
    def sparse(rng):
        return tuple(rng.randrange(n) if rng.random() < 0.15 else 0 for n in CARDINALITIES)

    axes = [Axis(0, 13), Axis(12, 0), Axis(-1, 4)]
    return Problem(list(CARDINALITIES), sparse, (1.0, -1.0, 1.0), population, [(0,) * 16], _key, axes)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_stops_at_its_budget_of_distinct_evaluations(name):
    toy = Toy()
    result = search(make_algorithm(name, 70), _problem(), toy, seed=3, budget=70)
    assert len(result.archive) == 70 and len({e.genome for e in result.archive}) == 70
    assert toy.performed == 70 and result.stop == "budget"  # repeats and canonical repeats were free
    assert result.history[-1][1] == 70
    assert [a[0] for a in result.anytime] == sorted({a[0] for a in result.anytime})  # rises, by evaluations


def test_random_search_at_budget_n_evaluates_exactly_n_distinct_candidates():
    """Sparse sampling of this space repeats itself (15% of genes set) long before 1,000 distinct candidates:
    the sampler goes uniform and still delivers exactly N."""
    for budget in (1, 37, 1000):
        toy = Toy()
        result = search(make_algorithm("random", budget), _problem(), toy, seed=1, budget=budget)
        assert toy.performed == budget == len(result.archive)


def test_random_search_stops_when_the_space_is_exhausted():
    problem = _problem()
    problem.cardinalities, problem.key = [2, 2, 3], tuple
    problem.sample, problem.seeds = (lambda rng: (0, 0, rng.randrange(3))), []
    problem.axes = None
    toy = Toy()
    toy_evaluate = lambda genomes: [Evaluation(tuple(g), (sum(g), 0, 0), 0, 0) for g in genomes]  # noqa: E731
    result = search(make_algorithm("random", 50), problem, toy_evaluate, seed=1, budget=50)
    assert len(result.archive) == 12 and result.stop == "done" and toy.performed == 0


@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_killed_search_resumes_from_its_checkpoint_and_retraces_nothing(tmp_path, name):
    budget = 150
    whole = search(make_algorithm(name, budget), _problem(), Toy(), seed=5, budget=budget)
    assert whole.stepped >= 2
    store = RunStore(str(tmp_path / "store.sqlite"), "toy", "objectives")
    checkpoint, kept = store.checkpoint("run"), {}  # `kept`: the evaluations committed before the kill
    killed = Toy(kept, kill_at=3)
    with pytest.raises(Killed):
        search(make_algorithm(name, budget), _problem(), killed, 5, budget=budget, checkpoint=checkpoint)
    saved = json.loads(checkpoint.load())["generation"]
    resumed = Toy(kept)
    result = search(make_algorithm(name, budget), _problem(), resumed, 5, budget=budget, checkpoint=checkpoint)
    assert result.resumed_from == saved and result.stepped == whole.stepped - saved  # continued, not retraced
    assert killed.performed + resumed.performed == budget  # no candidate evaluated twice
    assert [e.genome for e in result.archive] == [e.genome for e in whole.archive]  # the same path
    assert result.history == whole.history and result.anytime == whole.anytime
    reopened = Toy(kept)
    again = search(make_algorithm(name, budget), _problem(), reopened, 5, budget=budget, checkpoint=checkpoint)
    assert reopened.performed == 0 and again.stepped == 0 and reopened.calls == 1  # only the archive read back
    assert [e.genome for e in again.archive] == [e.genome for e in whole.archive] and again.history == whole.history
    store.close()


def test_linkage_tree_merges_the_genes_that_move_together():
    genomes = []
    for i in range(40):
        a, b, c = i % 2, (i // 2) % 3, (i * 7 // 5) % 2
        genomes.append([a, a, b, b % 2, c, (i // 4) % 2])
    fos = linkage_tree(genomes, [2, 2, 3, 2, 2, 2, 1])
    assert fos[:6] == [(0,), (1,), (2,), (3,), (4,), (5,)]
    assert fos[6] == (0, 1) and fos[7] == (2, 3)  # copies first, then the gene determined by another
    assert len(fos) == 2 * 6 - 2 and 6 not in {g for subset in fos for g in subset}  # one-option gene left out


def _digits(tmp_path, algorithm: str, extra: str = "") -> str:
    spec = open(os.path.join(SPECS, "digits.stitch")).read().replace('"models/', f'"{SPECS}/models/')
    spec = spec.replace("samples = 1024", "samples = 128")
    default = spec[spec.index("    algorithm  =") : spec.index("    objectives =")]
    spec = spec.replace(default, f"    {algorithm}{extra}\n")
    path = tmp_path / "spec.stitch"
    path.write_text(spec)
    return str(path)


def test_a_spec_search_killed_mid_run_resumes_to_the_same_front(tmp_path, monkeypatch, capsys):
    from stitchc.evolve.executor import Executor

    path = _digits(tmp_path, "algorithm  = gomea(population = 8, seed = 2)", "\n    budget     = 24")
    assert main(["run", path, "--out", str(tmp_path / "whole")]) == 0
    whole = json.loads((tmp_path / "whole" / "front.json").read_text())
    assert whole["hypervolume"]["history"][-1]["evaluations"] == 24 >= whole["anytime"][-1]["evaluations"]
    assert whole["anytime"][-1]["hypervolume"] == whole["hypervolume"]["value"]
    assert (tmp_path / "whole" / "report.html").read_text().count('class="anytime-evaluations"') == 1
    original, calls = Executor.map, [0]

    def dies(self, genomes):
        calls[0] += 1
        if calls[0] == 4:
            raise KeyboardInterrupt
        return original(self, genomes)

    monkeypatch.setattr(Executor, "map", dies)
    assert main(["run", path, "--out", str(tmp_path / "killed")]) == 130  # interrupted in the middle of a generation
    monkeypatch.setattr(Executor, "map", original)
    with sqlite3.connect(tmp_path / "killed" / "evaluations.sqlite") as store:
        committed = store.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    assert 0 < committed < 24
    performed = _count_evaluations(monkeypatch)
    capsys.readouterr()
    assert main(["run", path, "--out", str(tmp_path / "killed")]) == 0
    assert "resumed from the checkpoint of generation" in capsys.readouterr().err
    assert len(performed) == 24 - committed  # each candidate evaluated once over the killed run and the resumed one
    assert front_bytes(tmp_path / "killed") == front_bytes(tmp_path / "whole")
    performed.clear()
    assert main(["run", path, "--out", str(tmp_path / "killed")]) == 0
    assert "(finished search reopened)" in capsys.readouterr().err and not performed


def _count_evaluations(monkeypatch) -> set:
    """The distinct candidates the Evaluator builds to evaluate (in this process: digits runs on one worker)."""
    from stitchc.evolve.objectives import Evaluator

    built, original = set(), Evaluator.candidate

    def counted(self, genome):
        built.add(tuple(genome))
        return original(self, genome)

    monkeypatch.setattr(Evaluator, "candidate", counted)
    return built
