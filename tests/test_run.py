"""End to end: `stitchc run specs/digits.stitch` writes a deterministic front of standalone, checked ONNX models."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import onnx
import pytest

from stitchc.cli import main
from tests.conftest import front_bytes

SPECS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs")

STANDALONE = """
import sys, json
sys.modules["stitchc"] = None  # the exported model must not need stitchc
import numpy as np, onnxruntime as ort
from sklearn.datasets import load_digits
x = (load_digits().data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
y = load_digits().target
order = np.random.default_rng(0).permutation(len(x))
test = order[int(round(0.6 * len(x))) + int(round(0.2 * len(x))):]
ort.set_default_logger_severity(3)
results = {}
for path in sys.argv[1:]:
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    scores = session.run(None, {session.get_inputs()[0].name: x[test]})[0]
    results[path] = float(np.mean(scores.argmax(1) == y[test]))
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    spec = os.path.join(SPECS, "digits.stitch")
    outs = [tmp_path_factory.mktemp(f"run{i}") for i in range(2)]
    for out in outs:
        assert main(["run", spec, "--out", str(out)]) == 0
    return outs


def _front(out):
    with open(os.path.join(out, "front.json")) as handle:
        return json.load(handle)


def _acc(point: dict) -> float:
    """Validation accuracy of a front.json point (or parent) of a spec optimising accuracy(DATA.val)."""
    return next(v for k, v in point["objectives"].items() if k.startswith("accuracy("))


def test_same_seed_same_front(runs):
    first, second = (front_bytes(out) for out in runs)
    assert first == second
    assert _front(runs[0])["stats"]["evaluations"] == _front(runs[1])["stats"]["evaluations"] > 0


def test_stats_count_the_search_and_its_sharing(runs):
    stats = _front(runs[0])["stats"]
    assert stats["macs_done"] < stats["macs_without_sharing"] and stats["seconds"] > 0 and stats["reused"] == 0
    assert stats["sharing"] == round(stats["macs_without_sharing"] / stats["macs_done"], 3)


def test_parents_are_on_the_front_or_dominated(runs):
    document = _front(runs[0])
    for name, parent in document["parents"].items():
        assert any(_acc(p) >= _acc(parent) and p["macs"] <= parent["macs"] for p in document["front"]), name


def test_front_is_mutually_non_dominated(runs):
    points = _front(runs[0])["front"]
    for p in points:
        for q in points:
            assert not (_acc(q) >= _acc(p) and q["macs"] <= p["macs"] and (_acc(q) > _acc(p) or q["macs"] < p["macs"]))


def test_front_contains_a_hybrid(runs):
    assert any(p["parent"] is None and len(p["choices"]) > 1 for p in _front(runs[0])["front"])


def test_exported_models_are_valid_and_standalone(runs):
    document = _front(runs[0])
    paths = [os.path.join(runs[0], p["file"]) for p in document["front"]]
    for path in paths:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)
    result = subprocess.run([sys.executable, "-c", STANDALONE, *paths], capture_output=True, text=True, check=True)
    measured = json.loads(result.stdout)
    for point, path in zip(document["front"], paths):
        assert measured[path] == point["test"]["accuracy(digits.test)"], point["file"]


def test_terminal_table_lists_parents_and_front(runs, capsys):
    out = runs[0]
    main(["run", os.path.join(SPECS, "digits.stitch"), "--out", str(out)])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["model", "accuracy(digits.val)", "macs", "accuracy(digits.test)", "params", "choices"]
    assert table[2].startswith("parent a") and table[3].startswith("parent b")
    assert sum(line.startswith("front_") for line in table) == len(_front(out)["front"])


def _mnist_front(tmp_path, spec_text: str) -> dict:
    spec = tmp_path / "mnist.stitch"
    spec.write_text(spec_text.replace('"models/', f'"{SPECS}/models/'))
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out), "--workers", "2"]) == 0
    return _front(out)


def _assert_a_hybrid_no_parent_dominates(document: dict) -> None:
    parents = list(document["parents"].values())

    def dominated_by_a_parent(point):
        return any(_acc(p) >= _acc(point) and p["macs"] <= point["macs"] for p in parents)

    hybrids = [p for p in document["front"] if p["parent"] is None and p["choices"] != {"output": "mean"}]
    assert any(not dominated_by_a_parent(p) for p in hybrids)


def test_a_small_mnist_search_finds_a_hybrid_no_parent_dominates(tmp_path):
    """specs/mnist.stitch at a quarter of its fit samples and 40% of its evaluations: the claim still holds."""
    text = open(os.path.join(SPECS, "mnist.stitch"), encoding="utf-8").read()
    small = (
        text.replace("samples = 2048", "samples = 512")
        .replace("population = 32, seed", "population = 16, seed")
        .replace("budget     = 100", "budget     = 40")
    )
    assert small != text
    _assert_a_hybrid_no_parent_dominates(_mnist_front(tmp_path, small))


@pytest.mark.slow
def test_mnist_front_has_a_hybrid_no_parent_dominates(tmp_path):
    _assert_a_hybrid_no_parent_dominates(_mnist_front(tmp_path, open(os.path.join(SPECS, "mnist.stitch")).read()))


def test_three_parents_in_one_search(tmp_path, parent_paths, make_residual):
    import onnx as onnx_

    third = tmp_path / "residual.onnx"
    onnx_.save(make_residual(5, 8, 2), str(third))
    spec = tmp_path / "three.stitch"
    spec.write_text(f"""stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{parent_paths[0]}")
model b = onnx("{parent_paths[1]}")
model c = onnx("{third}")
stitch ab = a <-> b {{ fit = digits.train(samples = 256) }}
stitch bc = b <-> c {{ points = auto(similarity = cka)  fit = digits.train(samples = 128) }}
search front over ab, bc {{
    algorithm  = nsga2(population = 8, generations = 2, seed = 3)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
""")
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out)]) == 0
    document = _front(out)
    assert set(document["parents"]) == {"a", "b", "c"}
    for point in document["front"]:
        onnx_.checker.check_model(onnx_.load(str(out / point["file"])), full_check=True)


TORCH_NETS = """
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(6 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv1(x))), 1))
"""


def test_a_torch_parent_in_a_spec(tmp_path, parent_paths):
    import torch

    (tmp_path / "nets.py").write_text(TORCH_NETS)
    namespace: dict = {}
    exec(TORCH_NETS, namespace)
    torch.manual_seed(0)
    torch.save(namespace["Small"]().state_dict(), tmp_path / "small.pt")
    spec = tmp_path / "torch.stitch"
    spec.write_text(f"""stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{parent_paths[0]}")
model t = torch("nets.py:Small", weights = "small.pt", input = f32[N, 1, 8, 8])
stitch at = a <-> t {{ points = [a.relu1 -> t.conv1, t.pool -> a.pool1]  fit = digits.train(samples = 256) }}
search front over at {{
    algorithm  = nsga2(population = 8, generations = 1, seed = 3)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
""")
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out)]) == 0
    document = _front(out)
    assert document["parents"]["t"]["macs"] == 64 * 6 * 9 + 96 * 10
    assert {"a.pool1", "t.conv1"} >= {k for p in document["front"] for k in p["choices"] if k != "output"}


def test_a_torch_parent_without_weights_is_warned_about_once(tmp_path, parent_paths, capsys):
    (tmp_path / "nets.py").write_text(TORCH_NETS)
    spec = tmp_path / "random.stitch"
    spec.write_text(f"""stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{parent_paths[0]}")
model t = torch("nets.py:Small", input = f32[N, 1, 8, 8])
stitch at = a <-> t {{ points = [a.relu1 -> t.conv1]  fit = digits.train(samples = 64) }}
search front over at {{
    algorithm  = random(samples = 4, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
""")
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        "stitchc: warning: model 't' (nets.py:Small) has no `weights`: it runs with random initial weights"
    ]


def test_random_search_is_a_baseline_against_nsga2(tmp_path):
    spec = open(os.path.join(SPECS, "digits.stitch")).read().replace('"models/', f'"{SPECS}/models/')
    path = tmp_path / "random.stitch"
    path.write_text(
        spec.replace("nsga2(population = 32, seed = 1)", "random(seed = 1)").replace("budget     = 60", "budget = 40")
    )
    assert main(["run", str(path), "--out", str(tmp_path / "random")]) == 0
    document = _front(tmp_path / "random")
    assert set(document["parents"]) == {"a", "b"} and 0 < document["hypervolume"]["value"] < 1


def test_a_rerun_reuses_the_stored_evaluations(runs, capsys):
    out = runs[0]
    before = front_bytes(out)
    assert main(["run", os.path.join(SPECS, "digits.stitch"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "evaluations reused from evaluations.sqlite" in err
    assert front_bytes(out) == before
    assert _front(out)["stats"]["evaluations"] == 0 < _front(out)["stats"]["reused"]


def test_report_html_plots_front_candidates_and_parents(runs):
    page = open(os.path.join(runs[0], "report.html")).read()
    document = _front(runs[0])
    assert page.count('class="front"') == len(document["front"])
    assert page.count('class="parent"') == len(document["parents"])
    assert page.count('class="candidate"') >= len(document["front"])
    assert "<script" not in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("loss", ["feature", "task"])
def test_refinement_from_a_spec(tmp_path, loss, capsys):
    spec = open(os.path.join(SPECS, "digits.stitch")).read().replace('"models/', f'"{SPECS}/models/')
    spec = spec.replace(
        "fit    = digits.train(samples = 1024)",
        f"fit    = digits.train(samples = 128)\n    refine = sgd(loss = {loss}, epochs = 1, lr = 1e-3)",
    )
    spec = spec.replace("nsga2(population = 32, seed = 1)", "random(seed = 1)").replace("budget     = 60", "budget = 8")
    path = tmp_path / "refine.stitch"
    path.write_text(spec)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert f"refined on the {'feature MSE' if loss == 'feature' else 'task loss'}" in capsys.readouterr().err
