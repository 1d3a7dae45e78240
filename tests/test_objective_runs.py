"""Searches over k objectives end to end: front.json, the table and report.html show every objective; the
values are those of the exported models; user metrics run (and fail in one line); the run store is keyed by the
objective set; latency is timed on the run's provider."""

from __future__ import annotations

import json
import math
import os
import shutil

import numpy as np
import onnx
import pytest
import sklearn.metrics as skm

import stitchc
from stitchc.cli import main
from stitchc.evolve.hypervolume import Axis, hypervolume
from stitchc.evolve.objectives import Evaluation, scores

SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
{metric}
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{ fit = digits.train(samples = 256) }}
search front over ab {{
    algorithm  = {algorithm}
    objectives = {objectives}
}}
"""
METRICS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "user_metrics.py")
THREE = "[maximize f1(digits.val), minimize loss(digits.val), minimize params]"


def _spec(tmp_path, parent_paths, objectives: str, algorithm: str = "random(samples = 6, seed = 1)", metric=""):
    shutil.copy(METRICS, tmp_path / "metrics.py")
    path = tmp_path / "spec.stitch"
    text = SPEC.format(metric=metric, a=parent_paths[0], b=parent_paths[1], algorithm=algorithm, objectives=objectives)
    path.write_text(text)
    return str(path)


def _front(out) -> dict:
    return json.loads((out / "front.json").read_text())


@pytest.fixture(scope="module")
def three(tmp_path_factory, parent_paths):
    """A k = 3 search: macro F1 up, cross-entropy down, parameters down."""
    folder = tmp_path_factory.mktemp("three")
    path = _spec(folder, parent_paths, THREE, "nsga2(population = 8, generations = 2, seed = 1)")
    out = folder / "out"
    assert main(["run", path, "--out", str(out)]) == 0
    return out


def test_front_json_holds_every_objective_and_its_reference(three):
    document = _front(three)
    assert [(o["name"], o["direction"], o["scale"]) for o in document["objectives"]] == [
        ("f1(digits.val)", "maximize", "linear"),
        ("loss(digits.val)", "minimize", "linear"),
        ("params", "minimize", "log10"),
    ]
    assert document["objectives"][1]["reference"] == pytest.approx(math.log(10))  # ten classes
    for point in document["front"]:
        assert list(point["objectives"]) == ["f1(digits.val)", "loss(digits.val)", "params"]
        assert list(point["test"]) == ["f1(digits.test)", "loss(digits.test)"]


def test_front_is_non_dominated_in_three_objectives_and_its_hypervolume_recomputes(three):
    document = _front(three)
    signs = [1 if o["direction"] == "maximize" else -1 for o in document["objectives"]]
    vectors = [[s * v for s, v in zip(signs, p["objectives"].values())] for p in document["front"]]
    for p in vectors:
        assert not any(all(a >= b for a, b in zip(q, p)) and q != p for q in vectors)
    axes = [Axis(o["reference"], o["ideal"], o["scale"] == "log10") for o in document["objectives"]]
    front = [Evaluation((), tuple(p["objectives"].values()), 0, 0) for p in document["front"]]
    assert math.isclose(hypervolume(front, axes), document["hypervolume"]["value"], rel_tol=1e-12)
    assert 0 < document["hypervolume"]["value"] < 1


def test_the_anytime_hypervolume_is_stored_per_generation(three):
    history = _front(three)["hypervolume"]["history"]
    assert [h["generation"] for h in history] == [0, 1, 2]  # nsga2(population = 8, generations = 2)
    evaluated = [h["evaluations"] for h in history]
    values = [h["value"] for h in history]
    assert evaluated == sorted(evaluated) and values == sorted(values)  # the archive only grows
    assert values[-1] == _front(three)["hypervolume"]["value"]
    assert (three / "report.html").read_text().count('class="anytime"') == 1


def test_front_values_are_those_of_the_exported_models(three, digits):
    for point in _front(three)["front"]:
        model = onnx.load(str(three / point["file"]))
        for split in ("val", "test"):
            logits, labels = scores(model, getattr(digits, split))
            measured = {"f1": skm.f1_score(labels, logits.argmax(1), average="macro")}
            probabilities = np.exp(logits - logits.max(1, keepdims=True))
            measured["loss"] = skm.log_loss(
                labels, probabilities / probabilities.sum(1, keepdims=True), labels=range(10)
            )
            values = point["objectives"] if split == "val" else point["test"]
            assert math.isclose(values[f"f1(digits.{split})"], measured["f1"], rel_tol=1e-12)
            assert math.isclose(values[f"loss(digits.{split})"], measured["loss"], rel_tol=1e-5)
        assert stitchc.load(str(three / point["file"])).params() == point["params"] == point["objectives"]["params"]


def test_terminal_table_and_report_show_every_objective(three, capsys):
    document = _front(three)
    path = str(three.parent / "spec.stitch")
    assert main(["run", path, "--out", str(three)]) == 0  # every evaluation comes from the store
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header == ["model", "f1(digits.val)", "loss(digits.val)", "params", "f1(digits.test)",
                      "loss(digits.test)", "macs", "choices"]  # fmt: skip
    page = (three / "report.html").read_text()
    assert page.count("<svg") == 3 + 2 + len(document["front"])  # a plot per pair, two hypervolume plots, networks
    assert page.count('class="front"') == 3 * len(document["front"])
    assert page.count('class="parent"') == 3 * len(document["parents"])
    for label in header[1:-1]:
        assert f"<th>{label}</th>" in page


def test_a_user_metric_is_an_objective(tmp_path, parent_paths, digits):
    metric = 'metric balanced = python("metrics.py:balanced")'
    path = _spec(tmp_path, parent_paths, "[maximize balanced(digits.val), minimize macs]", metric=metric)
    assert main(["run", path, "--out", str(tmp_path / "out")]) == 0
    document = _front(tmp_path / "out")
    assert document["objectives"][0]["reference"] == 0.0 and document["objectives"][0]["ideal"] == 1.0
    for point in document["front"]:
        predicted = scores(onnx.load(str(tmp_path / "out" / point["file"])), digits.test)[0].argmax(1)
        expected = skm.balanced_accuracy_score(digits.test.y, predicted)
        assert math.isclose(point["test"]["balanced(digits.test)"], expected, rel_tol=1e-12)


@pytest.mark.parametrize(
    "function, workers, cause",
    [
        ("divides", "1", "divides raised ZeroDivisionError: division by zero"),
        ("nan", "2", "nan returned nan, not a finite number"),
    ],
)
def test_a_failing_user_metric_stops_the_run_in_one_line(tmp_path, parent_paths, capsys, function, workers, cause):
    metric = f'metric mine = python("metrics.py:{function}")'
    path = _spec(tmp_path, parent_paths, "[maximize mine(digits.val), minimize macs]", metric=metric)
    assert main(["run", path, "--out", str(tmp_path / "out"), "--workers", workers]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"stitchc: error: {tmp_path / 'metrics.py'}: {cause}"
    assert "Traceback" not in err and not (tmp_path / "out" / "front.json").exists()


def test_the_run_store_is_keyed_by_the_objective_set(tmp_path, parent_paths, capsys, digits):
    out = tmp_path / "out"
    accuracy = _spec(tmp_path, parent_paths, "[maximize accuracy(digits.val), minimize macs]")
    assert main(["run", accuracy, "--out", str(out)]) == 0
    first = _front(out)
    first.pop("stats")
    capsys.readouterr()
    f1 = _spec(tmp_path, parent_paths, "[maximize f1(digits.val), minimize macs]")
    assert main(["run", f1, "--out", str(out)]) == 0
    assert "reused" not in capsys.readouterr().err  # the accuracy numbers are not taken for F1
    for point in _front(out)["front"]:
        predicted = scores(onnx.load(str(out / point["file"])), digits.val)[0].argmax(1)
        assert point["objectives"]["f1(digits.val)"] == skm.f1_score(digits.val.y, predicted, average="macro")
    accuracy = _spec(tmp_path, parent_paths, "[maximize accuracy(digits.val), minimize macs]")
    assert main(["run", accuracy, "--out", str(out)]) == 0
    assert "evaluations reused from evaluations.sqlite" in capsys.readouterr().err
    again = _front(out)
    again.pop("stats")
    assert again == first


def test_latency_is_timed_beside_accuracy(tmp_path, parent_paths):
    objectives = "[maximize accuracy(digits.val), minimize latency(batch = 1), minimize macs]"
    path = _spec(tmp_path, parent_paths, objectives)
    assert main(["run", path, "--out", str(tmp_path / "out")]) == 0
    document = _front(tmp_path / "out")
    latency = document["objectives"][1]
    assert latency["name"] == "latency(batch = 1)" and latency["scale"] == "log10"
    own = [p["objectives"]["latency(batch = 1)"] for p in document["parents"].values()]
    assert all(0 < t < 1000 for t in own)  # milliseconds for one 8×8 digit
    assert latency["reference"] == pytest.approx(2 * sum(own)) and latency["ideal"] == pytest.approx(min(own) / 2)
    assert all(p["objectives"]["latency(batch = 1)"] > 0 for p in document["front"])
