"""Malformed specs: exact `file:line:col: error: message`, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stitchc.cli import main

GOOD = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{
    points = auto
    layer  = affine(init = least_squares)
    fit    = digits.train(samples = 256)
}}
search front over ab {{
    genome     = switches
    algorithm  = nsga2(population = 8, generations = 1, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
export front.pareto to "out" as onnx
"""

# (replace this, with this, expected first line after "spec.stitch:")
CASES = [
    ("stitch 1", "stitch 2", "1:1: error: unsupported language version 2 (this stitchc reads 1)"),
    ("stitch 1\n", "", "1:1: error: unexpected 'data'; expected 'stitch'"),
    ("seed = 0)", "seed = 0", "3:1: error: unexpected 'model'; expected one of ')', ','"),
    ("a <-> b {", "a <-> c {", "5:19: error: unknown model 'c'"),
    ('"sklearn:digits"', '"sklearn:digitz"', "2:23: error: unknown dataset 'sklearn:digitz'"),
    ("[0.6, 0.2, 0.2]", "[0.6, 0.3, 0.2]", "2:49: error: split fractions must be positive and sum to 1, got 1.1"),
    ("[0.6, 0.2, 0.2]", "[0.6, 0.4]", "2:49: error: 'split' must be a list of three fractions [train, val, test]"),
    ("seed = 0)", "seed = -1)", "2:73: error: 'seed' must be at least 0, got -1"),
    ("samples = 256", "samples = 2.5", "8:37: error: 'samples' must be an integer"),
    ("samples = 256", "smaples = 256", "8:27: error: unknown argument of digits.train() 'smaples'"),
    ("digits.train(", "digits.trian(", "8:14: error: unknown split 'trian'"),
    ("digits.train(", "digitz.train(", "8:14: error: unknown data 'digitz'"),
    (
        "population = 8",
        "population = 10",
        "12:37: error: population must be a multiple of 4 for NSGA-II tournament selection, got 10",
    ),
    ("generations = 1", "generations = -3", "12:54: error: 'generations' must be at least 0, got -3"),
    ("nsga2(", "nsga3(", "12:18: error: unknown function 'nsga3'"),
    ("genome     = switches", "budget     = 0", "11:18: error: 'budget' must be at least 1, got 0"),
    (
        "genome     = switches",
        "budget     = 2.5",
        "11:18: error: 'budget' must be an integer (distinct candidates to evaluate)",
    ),
    (
        "nsga2(population = 8, generations = 1, seed = 1)",
        "random(samples = 8, seed = 1)\n    budget     = 8",
        "12:25: error: random() takes `samples` or the search's `budget`, not both",
    ),
    ("minimize macs", "minimize flops", "13:59: error: unknown metric 'flops'"),
    ("minimize macs", "maximize macs", "13:50: error: macs can only be minimized"),
    (
        "maximize accuracy(digits.val)",
        "maximize accuracy",
        "13:28: error: accuracy takes the data split to measure on, for example accuracy(digits.val)",
    ),
    ("over ab {", "over ba {", "10:19: error: unknown stitch 'ba'"),
    ("export front.pareto", "export fronts.pareto", "15:8: error: unknown search 'fronts'"),
    ("front.pareto to", "front.best to", "15:8: error: cannot export 'front.best'"),
    ("as onnx", "as tflite", "15:33: error: unknown export format 'tflite'"),
    ("as onnx", "as troch", "15:33: error: unknown export format 'troch'"),
    (
        'export front.pareto to "out" as onnx\n',
        "search again over ab {\n    algorithm  = random(samples = 4, seed = 1)\n"
        "    objectives = [maximize accuracy(digits.val), minimize macs]\n}\n"
        'export front.pareto to "out" as onnx\nexport again.pareto to "out" as onnx\n',
        "20:24: error: searches 'front' and 'again' both export to 'out'",
    ),
    ("points = auto", "points = all", "6:14: error: unknown points 'all'"),
    ("init = least_squares", "init = lstsq", "7:28: error: unknown stitch init 'lstsq'"),
    ("genome     = switches", "genomes    = switches", "11:5: error: unknown setting 'genomes'"),
    ("    fit    = digits.train(samples = 256)\n", "", "5:8: error: missing setting 'fit' in stitch 'ab'"),
    ("model b =", "model a =", "4:7: error: 'a' is already declared"),
    ("a <-> b {", "a <-> a {", "5:19: error: a model cannot be stitched to itself ('a')"),
    ('onnx("{b}")', 'onnx("missing.onnx")', "4:16: error: model file 'missing.onnx' not found"),
    ('onnx("{b}")', 'torch("x.py:Net", input = f32[N, 1, 8, 8])', "4:17: error: torch module file 'x.py' not found"),
    ("layer  = affine(", "layer  = affine(init = least_squares) @ (", "7:43: error: unexpected character '@'"),
    ("}}\nsearch", "\nsearch", "10:1: error: unexpected 'search'; expected one of ';', '}', a name"),
    (
        'export front.pareto to "out" as onnx\n',
        'export front.pareto to "out" as',
        "15:32: error: unexpected end of file; expected a name",
    ),
]


def _write_spec(tmp_path, parent_paths, old: str, new: str) -> str:
    good = GOOD.format(a=parent_paths[0], b=parent_paths[1])
    old = old.replace("{a}", parent_paths[0]).replace("{b}", parent_paths[1]).replace("}}", "}")
    assert old in good
    text = good.replace(old, new, 1)
    path = tmp_path / "spec.stitch"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("old,new,expected", CASES, ids=[c[2].split(": error: ")[1][:40] for c in CASES])
def test_malformed_spec_diagnostic(tmp_path, parent_paths, capsys, old, new, expected):
    path = _write_spec(tmp_path, parent_paths, old, new)
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:{expected}"
    assert "Traceback" not in err


def test_good_spec_checks(tmp_path, parent_paths, capsys):
    path = _write_spec(tmp_path, parent_paths, "", "")
    assert main(["check", path]) == 0


def test_diagnostic_shows_line_caret_and_hint(tmp_path, parent_paths, capsys):
    path = _write_spec(tmp_path, parent_paths, "digits.train(", "digits.trian(")
    main(["check", path])
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "        fit    = digits.train(samples = 256)".replace("train", "trian")
    assert lines[2] == "    " + " " * 13 + "^" + "~" * 11
    assert lines[3] == "    hint: did you mean 'train'?"


def test_several_errors_reported_in_one_run(tmp_path, parent_paths, capsys):
    path = _write_spec(tmp_path, parent_paths, '"sklearn:digits"', '"sklearn:digitz"')
    text = open(path).read().replace("as onnx", "as tflite")
    open(path, "w").write(text)
    main(["check", path])
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert len(errors) >= 2


def test_missing_spec_file(tmp_path, capsys):
    path = str(tmp_path / "nope.stitch")
    assert main(["check", path]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"{path}:1:1: error: cannot read spec: no such file or directory"


def test_corrupt_model_is_a_located_error(tmp_path, parent_paths, capsys):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage-not-a-protobuf" * 10)
    path = _write_spec(tmp_path, parent_paths, 'onnx("{b}")', f'onnx("{corrupt}")')
    assert main(["run", path, "--out", str(tmp_path / "out")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"{path}:4:16: error: cannot import model 'b': not a readable ONNX model")
    assert not os.path.exists(tmp_path / "out")


def test_truncated_model_is_a_located_error(tmp_path, parent_paths, capsys):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(open(parent_paths[1], "rb").read()[:5000])
    path = _write_spec(tmp_path, parent_paths, 'onnx("{b}")', f'onnx("{truncated}")')
    assert main(["run", path, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines()[0].startswith(f"{path}:4:16: error: cannot import model 'b': ")


def test_cli_exit_status_and_no_traceback(tmp_path, parent_paths):
    path = _write_spec(tmp_path, parent_paths, "a <-> b {", "a <-> c {")
    result = subprocess.run([sys.executable, "-m", "stitchc.cli", "check", path], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"{path}:5:19: error: unknown model 'c'"
    assert "Traceback" not in result.stderr


def test_unwritable_run_folder_is_one_line_before_any_work(tmp_path, parent_paths, capsys):
    path = _write_spec(tmp_path, parent_paths, "", "")
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    assert main(["run", path, "--out", str(blocker)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"stitchc: error: {blocker}: cannot write the run folder ({blocker} is a file)"
    ]
    assert main(["run", path, "--out", str(blocker / "inside")]) == 2
    assert "cannot write the run folder" in capsys.readouterr().err
