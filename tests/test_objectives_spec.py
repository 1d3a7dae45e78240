"""Objectives and metrics in specs: the checker accepts k objectives and `metric` declarations; every mistake,
and every parent output that does not fit a metric, is one exact located error (exit 2, no traceback)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from stitchc.cli import main
from stitchc.evolve.metrics.output_fit import output_mismatch
from stitchc.grammar.program import ObjectiveSpec
from stitchc.ir import TensorType

SPEC = """stitch 1
data d = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
metric balanced = python("metrics.py:balanced_accuracy")
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{ fit = d.train(samples = 256) }}
search front over ab {{
    algorithm  = nsga2(population = 8, generations = 1, seed = 1)
    objectives = [maximize top5(d.val), minimize loss(d.val), maximize f1(d.val), minimize latency(batch = 1), minimize params]
}}
"""
OBJECTIVES = (
    "[maximize top5(d.val), minimize loss(d.val), maximize f1(d.val), minimize latency(batch = 1), minimize params]"
)
EXAMPLE_METRICS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "metrics.py")


@pytest.fixture()
def write(tmp_path, parent_paths):
    """Writes the spec with `old` replaced by `new` (and metrics.py beside it); returns its path."""
    shutil.copy(EXAMPLE_METRICS, tmp_path / "metrics.py")

    def spec(old: str = "", new: str = "", a: str | None = None) -> str:
        text = SPEC.format(a=a or parent_paths[0], b=parent_paths[1])
        assert old in text
        path = tmp_path / "spec.stitch"
        path.write_text(text.replace(old, new, 1))
        return str(path)

    return spec


def test_the_issue_objective_list_checks(write, capsys):
    assert main(["check", write()]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")


def test_every_objective_kind_reaches_the_program(write):
    from stitchc.grammar.checker import load_program

    path = write(
        OBJECTIVES,
        "[maximize balanced(d.val), maximize topk(d.test, k = 3), minimize mse(d.val), "
        "minimize mae(d.val), minimize macs, maximize accuracy(d.val)]",
    )
    objectives = load_program(path).searches["front"].objectives
    assert [o.label for o in objectives] == [
        "balanced(d.val)", "topk(d.test, k = 3)", "mse(d.val)", "mae(d.val)", "macs", "accuracy(d.val)"
    ]  # fmt: skip
    assert objectives[1].args == (("k", 3),) and objectives[1].split == "test"
    program = load_program(write())
    assert [o.label for o in program.searches["front"].objectives][3] == "latency(batch = 1)"
    assert program.metrics["balanced"].function == "balanced_accuracy"
    assert program.metrics["balanced"].range == (0.0, 1.0)


# (replace this, with this, expected first line after "spec.stitch:")
CASES = [
    (
        OBJECTIVES,
        "[maximize top5(d.val)]",
        "9:18: error: 'objectives' must list at least two, such as [maximize accuracy(digits.val), minimize macs]",
    ),
    ("minimize params]", "minimize flops]", "9:121: error: unknown metric 'flops'"),
    ("minimize params]", "maximize params]", "9:112: error: params can only be minimized"),
    ("maximize top5", "minimize top5", "9:19: error: top5 can only be maximized"),
    (
        "minimize loss(d.val)",
        "minimize loss",
        "9:50: error: loss takes the data split to measure on, for example loss(digits.val)",
    ),
    (
        "minimize params]",
        "minimize params(d.val)]",
        "9:128: error: params is measured on the model alone and takes no data split",
    ),
    ("latency(batch = 1)", "latency(batch = 0)", "9:108: error: 'batch' must be at least 1, got 0"),
    ("latency(batch = 1)", "latency(size = 1)", "9:100: error: unknown argument of latency() 'size'"),
    ("maximize top5(d.val)", "maximize topk(d.val, k = 0)", "9:44: error: 'k' must be at least 1, got 0"),
    ("maximize f1(d.val)", "maximize top5(d.val)", "9:63: error: objective 'top5(d.val)' is listed twice"),
    ("maximize f1(d.val)", "maximize f1(d.valid)", "9:75: error: unknown split 'valid'"),
    ("maximize f1(d.val)", "maximize balance(d.val)", "9:72: error: unknown metric 'balance'"),
    (
        '"metrics.py:balanced_accuracy"',
        '"metric.py:balanced_accuracy"',
        "3:26: error: metric file 'metric.py' not found",
    ),
    (
        '"metrics.py:balanced_accuracy"',
        '"metrics.py:balanced"',
        "3:26: error: metric file 'metrics.py' defines no function 'balanced'",
    ),
    ('"metrics.py:balanced_accuracy"', '"metrics.py"', '3:26: error: expected "file.py:function", got "metrics.py"'),
    ("metric balanced =", "metric accuracy =", "3:8: error: 'accuracy' is a built-in metric; choose another name"),
    ("metric balanced =", "metric d =", "3:8: error: 'd' is already declared"),
    (
        'python("metrics.py:balanced_accuracy")',
        'python("metrics.py:balanced_accuracy", range = [1, 0])',
        "3:66: error: 'range' must be two numbers [LOW, HIGH] with LOW < HIGH",
    ),
    ('python("metrics.py:balanced_accuracy")', 'onnx("metrics.py")', "3:19: error: unknown function 'onnx'"),
    # parents' outputs against the metrics, before any work
    (
        "maximize top5(d.val)",
        "maximize topk(d.val, k = 12)",
        "9:19: error: topk(d.val, k = 12) needs at least 12 scores per sample, model a outputs float32[N, 10]",
    ),
    (
        "minimize loss(d.val)",
        "minimize mse(d.val)",
        "9:41: error: mse(d.val) needs one output value per target value (targets [N]), model a outputs float32[N, 10]",
    ),
]


@pytest.mark.parametrize("old,new,expected", CASES, ids=[c[2].split(": error: ")[1][:40] for c in CASES])
def test_objective_and_metric_mistakes(write, capsys, old, new, expected):
    path = write(old, new)
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:{expected}"
    assert "Traceback" not in err


def test_a_metric_file_that_raises_on_loading_is_located(write, tmp_path, capsys):
    path = write()
    (tmp_path / "metrics.py").write_text("import numpy\n\nraise RuntimeError('no GPU here')\n")
    assert main(["check", path]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:3:26: error: metric file 'metrics.py' cannot load (line 3): RuntimeError: no GPU here"
    )


def _five_class_model(path) -> str:
    """A linear classifier with 5 outputs over 8×8 digits (which have 10 classes)."""
    weight = numpy_helper.from_array(np.zeros((64, 5), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("MatMul", ["f", "w"], ["y"])],
        "five",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


def test_a_parent_with_too_few_classes_is_one_located_error_naming_both_shapes(write, tmp_path, capsys):
    path = write(a=_five_class_model(tmp_path / "five.onnx"))
    assert main(["check", path]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    need = "needs [N, C] scores with C >= 10 (labels 0..9), model a outputs float32[N, 5]"
    assert errors == [
        f"{path}:9:19: error: top5(d.val) {need}",
        f"{path}:9:41: error: loss(d.val) {need}",
        f"{path}:9:63: error: f1(d.val) {need}",
    ]
    assert main(["run", path, "--out", str(tmp_path / "out")]) == 2  # `run` checks the same before any work
    assert not (tmp_path / "out" / "front.json").exists()


def test_output_fit_of_regression_and_float_labels():
    accuracy = ObjectiveSpec("maximize", "accuracy", "d", "val")
    mse = ObjectiveSpec("minimize", "mse", "d", "val")
    scores = TensorType(np.dtype("float32"), ("N", 10))
    regression = TensorType(np.dtype("float32"), ("N", 1))
    targets = np.zeros((20, 2), np.float32)
    assert output_mismatch(accuracy, "a", scores, targets) == (
        "needs one integer class label per sample, the labels of d.val are float32[N, 2]"
    )
    assert output_mismatch(mse, "a", regression, np.zeros(20, np.float32)) is None  # [N, 1] fits [N]
    assert output_mismatch(mse, "a", TensorType(np.dtype("float32"), ("N", 2)), targets) is None
    assert output_mismatch(mse, "a", regression, targets) == (
        "needs one output value per target value (targets [N, 2]), model a outputs float32[N, 1]"
    )
    assert output_mismatch(ObjectiveSpec("maximize", "mine", "d", "val"), "a", regression, targets) is None


def test_an_undeclared_metric_hints_at_declaring_it(write, capsys):
    path = write("maximize f1(d.val)", "maximize recall(d.val)")
    assert main(["check", path]) == 2
    assert capsys.readouterr().err.splitlines()[3] == (
        "    hint: known: accuracy, balanced, f1, latency, loss, macs, mae, mse, params, top5, topk, train_steps; "
        'or declare it: metric recall = python("file.py:function")'
    )


def test_a_broken_metric_declaration_is_reported_once(write, capsys):
    path = write('"metrics.py:balanced_accuracy"', '"metrics.py:nothing"')
    text = open(path).read().replace("maximize f1(d.val)", "maximize balanced(d.val)")
    open(path, "w").write(text)
    assert main(["check", path]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert errors == [f"{path}:3:26: error: metric file 'metrics.py' defines no function 'nothing'"]
