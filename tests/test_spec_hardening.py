"""Specs that used to crash or mislead `stitchc check` (issue 10, findings 8, 12, 13, 15): each is now one located
line with an exact message, exit status 2, no traceback; `check --no-exec` runs no user file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from stitchc.cli import main
from stitchc.evolve.metrics.user import MetricError, user_metric
from stitchc.grammar.program import MetricSpec

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "models")

NET = """import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Bad(Net):
    def forward(self, x):
        raise ValueError("forward is broken")


class Quits(Net):
    def forward(self, x):
        raise SystemExit(4)
"""

TAIL = """model b = onnx("models/digits_small.onnx")
stitch ab = a <-> b { fit = d.train(samples = 64) }
search front over ab {
    algorithm  = nsga2(population = 4, generations = 1, seed = 1)
    objectives = [maximize accuracy(d.val), minimize macs]
}
"""


def _check(folder, text: str, capsys, *flags: str) -> tuple[int, list[str]]:
    """Exit status and stderr lines of `stitchc check` on `text` written as folder/spec.stitch."""
    if not os.path.exists(folder / "models"):
        os.symlink(MODELS, folder / "models")
    (folder / "spec.stitch").write_text(text)
    status = main(["check", *flags, str(folder / "spec.stitch")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err.splitlines()


def _spec(data: str, model_a: str = 'onnx("models/digits_wide.onnx")') -> str:
    return f"stitch 1\ndata d = {data}\nmodel a = {model_a}\n{TAIL}"


@pytest.fixture()
def npz_parts(tmp_path):
    """train (100), val (20), empty .npz files of 8x8 digits-like samples."""
    rng = np.random.default_rng(0)
    x, y = rng.random((120, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 120)
    np.savez(tmp_path / "train.npz", x=x[:100], y=y[:100])
    np.savez(tmp_path / "val.npz", x=x[100:], y=y[100:])
    np.savez(tmp_path / "empty.npz", x=x[:0], y=y[:0])
    np.savez(tmp_path / "tiny.npz", x=x[:5], y=y[:5])
    return tmp_path


@pytest.mark.parametrize(
    "data, message",
    [
        (
            'npz("train.npz", val = "val.npz", test = "empty.npz")',
            "split 'test' of data 'd' is empty (train 100, val 20, test 0 samples)",
        ),
        (
            'npz("train.npz", val = "empty.npz", test = "val.npz")',
            "split 'val' of data 'd' is empty (train 100, val 0, test 20 samples)",
        ),
        (
            'npz("empty.npz", val = "val.npz", test = "val.npz")',
            "split 'train' of data 'd' is empty (train 0, val 20, test 20 samples)",
        ),
        (
            'npz("tiny.npz", split = [0.98, 0.01, 0.01])',
            "split 'val' of data 'd' is empty (train 5, val 0, test 0 samples)",
        ),
    ],
    ids=["test", "val", "train", "fractions"],
)
def test_an_empty_split_is_refused_at_check_time_with_the_sizes(npz_parts, capsys, data, message):
    status, err = _check(npz_parts, _spec(data), capsys)
    assert status == 2
    assert err[0] == f"{npz_parts}/spec.stitch:2:6: error: {message}"


def test_an_empty_split_is_refused_before_run_does_any_work(npz_parts, capsys):
    (npz_parts / "spec.stitch").write_text(_spec('npz("train.npz", val = "val.npz", test = "empty.npz")'))
    os.symlink(MODELS, npz_parts / "models")
    assert main(["run", str(npz_parts / "spec.stitch"), "--out", str(npz_parts / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"{npz_parts}/spec.stitch:2:6: error: split 'test' of data 'd' is empty")
    assert not os.path.exists(npz_parts / "out" / "front.json")


def test_a_fit_split_smaller_than_the_stitch_asks_is_a_warning(npz_parts, capsys):
    text = _spec('npz("train.npz", val = "val.npz", test = "val.npz")').replace("samples = 64", "samples = 512")
    status, err = _check(npz_parts, text, capsys)
    assert status == 0
    assert err[0] == (
        f"{npz_parts}/spec.stitch:5:8: warning: stitch 'ab' asks for 512 fit samples but split 'train' of data 'd' "
        "has 100: it fits on those"
    )


@pytest.mark.parametrize(
    "text, position, message",
    [
        (
            'data d = python("x.py:f", a = ' + "[" * 5000 + "]" * 5000 + ")",
            "2:94",
            "brackets nest deeper than 64 levels",
        ),
        ('data d = dataset("sklearn:digits", split = ' + "[" * 5000, "2:107", "brackets nest deeper than 64 levels"),
        (
            "rule r { match { %y = Relu(%x) } compute { k = " + "-" * 3000 + "1; } rewrite { %y = Relu(%x) } }",
            "2:244",
            "expression nests deeper than 200 levels",
        ),
        (
            "rule r { match { %y = Relu(%x) } compute { k = " + "1 + " * 3000 + "1; } rewrite { %y = Relu(%x) } }",
            "2:48",
            "expression nests deeper than 200 levels",
        ),
    ],
    ids=["closed brackets", "unclosed brackets", "unary chain", "sum chain"],
)
def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path, capsys, text, position, message):
    status, err = _check(tmp_path, f"stitch 1\n{text}\n", capsys)
    assert status == 2
    assert err[0] == f"{tmp_path}/spec.stitch:{position}: error: {message}"


def test_nesting_just_under_the_limits_checks(tmp_path, capsys):
    rule = "rule r { match { %y = Relu(%x) } compute { k = " + "1 + " * 150 + "1; } rewrite { %y = Relu(%x) } }"
    status, err = _check(tmp_path, f"stitch 1\n{rule}\n", capsys)
    assert (status, err) == (0, [])


@pytest.fixture()
def net_folder(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "sysexit.py").write_text("import sys\n\nsys.exit(3)\n")
    (tmp_path / "interrupt.py").write_text("raise GeneratorExit('odd')\n")
    return tmp_path


def test_a_forward_that_raises_is_one_line_with_the_class_and_the_line(net_folder, capsys):
    spec = _spec('dataset("sklearn:digits")', 'torch("net.py:Bad", input = f32[N, 1, 8, 8])')
    status, err = _check(net_folder, spec, capsys)
    assert status == 2
    assert err[0] == (
        f"{net_folder}/spec.stitch:3:17: error: cannot import model 'a': Bad does not run on float32[N, 1, 8, 8] "
        "(ValueError: forward is broken, line 15 of net.py)"
    )
    assert len([line for line in err if ": error: " in line]) == 1


def test_a_forward_that_exits_is_an_error_not_an_exit(net_folder, capsys):
    spec = _spec('dataset("sklearn:digits")', 'torch("net.py:Quits", input = f32[N, 1, 8, 8])')
    status, err = _check(net_folder, spec, capsys)
    assert status == 2
    assert err[0].endswith(
        "Quits does not run on float32[N, 1, 8, 8] (SystemExit: the file called sys.exit(4), line 20 of net.py)"
    )


def test_nan_weights_are_refused_naming_the_parameter(net_folder, capsys):
    state = {"fc.weight": torch.zeros(10, 64), "fc.bias": torch.zeros(10)}
    state["fc.weight"][3, 5] = float("nan")
    torch.save(state, net_folder / "nan.pt")
    spec = _spec('dataset("sklearn:digits")', 'torch("net.py:Net", weights = "nan.pt", input = f32[N, 1, 8, 8])')
    status, err = _check(net_folder, spec, capsys)
    assert status == 2
    assert (
        err[0]
        == f"{net_folder}/spec.stitch:3:17: error: cannot import model 'a': parameter 'fc.weight' holds 1 NaN of 640 values"
    )


def test_a_use_file_calling_sys_exit_is_an_error_line(net_folder, capsys):
    status, err = _check(net_folder, 'stitch 1\nuse "sysexit.py"\n', capsys)
    assert status == 2
    assert err[0] == (
        f"{net_folder}/spec.stitch:2:5: error: cannot load passes from 'sysexit.py' (line 3): "
        "SystemExit: the file called sys.exit(3)"
    )


def test_any_base_exception_from_a_use_file_is_an_error_line(net_folder, capsys):
    status, err = _check(net_folder, 'stitch 1\nuse "interrupt.py"\n', capsys)
    assert status == 2
    assert (
        err[0]
        == f"{net_folder}/spec.stitch:2:5: error: cannot load passes from 'interrupt.py' (line 1): GeneratorExit: odd"
    )


def test_a_broken_declaration_causes_no_follow_on_error(tmp_path, capsys):
    text = _spec('npz("missing.npz")', 'onnx("models/nope.onnx")') + 'export front.pareto to "out" as tflite\n'
    status, err = _check(tmp_path, text, capsys)
    errors = [line.split(": error: ")[1] for line in err if ": error: " in line]
    assert errors == [
        "data file 'missing.npz' not found",
        "model file 'models/nope.onnx' not found",
        "unknown export format 'tflite'",
    ]


def test_no_exec_runs_no_user_file_and_notes_each_line(net_folder, capsys):
    (net_folder / "make.py").write_text("raise SystemExit(9)\n")
    (net_folder / "metrics.py").write_text("raise SystemExit(8)\n")
    text = (
        'stitch 1\nuse "sysexit.py"\ndata d = dataset("sklearn:digits")\ndata p = python("make.py:f")\n'
        'metric bal = python("metrics.py:score")\nmodel a = torch("net.py:Bad", input = f32[N, 1, 8, 8])\n'
        "pipeline cleanup = [from_use_file, dce]\n"
    ) + TAIL.replace("accuracy(d.val)", "bal(d.val)")
    status, err = _check(net_folder, text, capsys, "--no-exec")
    assert status == 0
    assert [line for line in err if ": note: " in line] == [
        f"{net_folder}/spec.stitch:{where}: note: {what}: not executed (--no-exec)"
        for where, what in [
            ("2:5", 'use "sysexit.py"'),
            ("4:6", "data p = python(...)"),
            ("5:21", "metric bal = python(...)"),
            ("6:17", "model a = torch(...)"),
        ]
    ]
    status, err = _check(net_folder, text, capsys)
    assert status == 2


@pytest.mark.parametrize(
    "old, new, status, line",
    [
        (  # the points of a torch parent are not resolved: that would build the class
            "{ fit",
            "{ points = [a.fc -> b.conv2]\n fit",
            0,
            "5:33: note: stitch point a.fc: not executed (--no-exec)",
        ),
        (  # everything that runs no user code is still checked
            'model b = onnx("models/digits_small.onnx")',
            'model b = onnx("models/absent.onnx")',
            2,
            "4:16: error: model file 'models/absent.onnx' not found",
        ),
    ],
    ids=["torch stitch points", "onnx parent"],
)
def test_no_exec_checks_all_that_needs_no_user_code(net_folder, capsys, old, new, status, line):
    text = _spec('dataset("sklearn:digits")', 'torch("net.py:Bad", input = f32[N, 1, 8, 8])').replace(old, new)
    code, err = _check(net_folder, text, capsys, "--no-exec")
    assert code == status
    assert f"{net_folder}/spec.stitch:{line}" in err


def test_a_metric_that_exits_during_the_run_is_a_metric_error(tmp_path):
    (tmp_path / "quits.py").write_text("import sys\n\n\ndef score(scores, labels):\n    sys.exit(6)\n")
    spec = MetricSpec("score", str(tmp_path / "quits.py"), "score", (0.0, 1.0), None)
    with pytest.raises(MetricError) as error:
        user_metric(spec, np.zeros((2, 3), np.float32), np.zeros(2, np.int64))
    assert str(error.value) == f"{tmp_path}/quits.py: score raised SystemExit: the file called sys.exit(6)"


def test_a_chain_of_imports_deeper_than_the_limit_is_a_located_error(tmp_path, capsys):
    for i in range(40):
        (tmp_path / f"m{i}.stitch").write_text(f'stitch 1\nimport "m{i + 1}.stitch"\n')
    (tmp_path / "m40.stitch").write_text("stitch 1\n")
    status, err = _check(tmp_path, 'stitch 1\nimport "m0.stitch"\n', capsys)
    assert status == 2
    assert err[0] == f"{tmp_path}/m30.stitch:2:8: error: imports nest deeper than 32 files"


def test_a_data_function_or_metric_file_that_exits_is_an_error_line(net_folder, capsys):
    (net_folder / "make.py").write_text("import sys\n\n\ndef load():\n    sys.exit(7)\n")
    (net_folder / "metrics.py").write_text("import sys\n\nsys.exit(2)\n")
    text = _spec('python("make.py:load")').replace("model b", 'metric m = python("metrics.py:score")\nmodel b')
    status, err = _check(net_folder, text, capsys)
    assert status == 2
    assert err[0] == (
        f"{net_folder}/spec.stitch:4:19: error: metric file 'metrics.py' cannot load (line 3): "
        "SystemExit: the file called sys.exit(2)"
    )
    status, err = _check(net_folder, _spec('python("make.py:load")'), capsys)
    assert err[0] == (
        f"{net_folder}/spec.stitch:2:6: error: cannot load data 'd': {net_folder}/make.py: load() raised "
        "SystemExit: the file called sys.exit(7) (line 5)"
    )


def test_control_characters_in_a_spec_are_shown_escaped(tmp_path, capsys):
    status, err = _check(tmp_path, _spec('dataset("sklearn:digits")', 'onnx("\x1b[2J\x1b[Hok.onnx")'), capsys)
    assert status == 2
    assert err[:3] == [
        f"{tmp_path}/spec.stitch:3:16: error: model file '\\x1b[2J\\x1b[Hok.onnx' not found",
        '    model a = onnx("\\x1b[2J\\x1b[Hok.onnx")',
        "                   ^" + "~" * 21,
    ]
