"""Data declarations the checker refuses: exact `file:line:col: error: message`, before anything is read."""

from __future__ import annotations

import pytest

from stitchc.cli import main

CASES = [
    ('npz("nope.npz")', "2:14: error: data file 'nope.npz' not found"),
    ('npz("imgs")', "2:14: error: data file 'imgs' is a folder"),
    ('images("d.npz")', "2:17: error: image folder 'd.npz' is a file, not a folder"),
    ('npz("d.npz", val = "d.npz")', "2:10: error: 'val' is given without 'test': name both, or split by fractions"),
    (
        'npz("d.npz", val = "d.npz", test = "d.npz", split = [0.5, 0.25, 0.25])',
        "2:54: error: 'split' fractions and explicit val/test data exclude each other",
    ),
    ('npy(x = "x.npy")', '2:10: error: npy() needs `y = "FILE.npy"` (inputs x, labels y)'),
    ('npy("x.npy", "y.npy")', '2:14: error: npy() takes its files by name: npy(x = "x.npy", y = "y.npy")'),
    (
        'npy(x = "x.npy", y = "y.npy", val = "x.npy", test = ["x.npy", "y.npy"])',
        '2:46: error: \'val\' of npy() is a pair of files: ["val_x.npy", "val_y.npy"]',
    ),
    ('images("imgs", channels = 2)', "2:36: error: 'channels' must be 1 (grey) or 3 (RGB)"),
    ('images("imgs", size = [16])', "2:32: error: 'size' must be [HEIGHT, WIDTH] in pixels, for example [32, 32]"),
    ('images("imgs", mean = [0.5, 0.5], std = [1])', "2:32: error: 'mean' has 2 values for 3 channels"),
    ('images("imgs", mean = [0.5])', "2:10: error: give both 'mean' and 'std' (per channel), or neither"),
    ('images("imgs", mean = [0.5], std = [0])', "2:45: error: 'std' values must be positive"),
    ('npz("d.npz", scale = 0)', "2:31: error: 'scale' must be a positive number (inputs are divided by it)"),
    ('npz("d.npz", x = "")', "2:27: error: 'x' names an array of the .npz file and cannot be empty"),
    ('python("make.py")', '2:17: error: expected "file.py:function", got "make.py"'),
    (
        'python("make.py:f", a = b)',
        "2:34: error: arguments of python() are numbers, strings, true/false or lists of them",
    ),
    ('tensors("x")', "2:10: error: unknown function 'tensors'"),
    ('npz("d.npz", shuffle = true)', "2:23: error: unknown argument of npz() 'shuffle'"),
]


@pytest.mark.parametrize("declaration,expected", CASES, ids=[c[1].split(": error: ")[1][:40] for c in CASES])
def test_bad_data_declaration(tmp_path, capsys, declaration, expected):
    for name in ("d.npz", "x.npy", "y.npy", "make.py"):
        (tmp_path / name).touch()
    (tmp_path / "imgs").mkdir()
    path = tmp_path / "spec.stitch"
    path.write_text(f"stitch 1\ndata d = {declaration}\npipeline p = [dce]\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:{expected}"
    assert "Traceback" not in err


def test_export_folder_is_relative_to_the_spec(tmp_path, parent_paths, monkeypatch):
    from stitchc.grammar.checker import load_program

    spec = tmp_path / "specs" / "s.stitch"
    spec.parent.mkdir()
    spec.write_text(
        f'stitch 1\ndata d = dataset("sklearn:digits")\nmodel a = onnx("{parent_paths[0]}")\n'
        f'model b = onnx("{parent_paths[1]}")\nstitch ab = a <-> b {{ fit = d.train(samples = 64) }}\n'
        "search front over ab {\n    algorithm  = nsga2(population = 4, generations = 1)\n"
        "    objectives = [maximize accuracy(d.val), minimize macs]\n}\n"
        'export front.pareto to "../runs/front" as onnx\n'
    )
    monkeypatch.chdir(tmp_path / "specs")
    assert load_program("s.stitch").exports[0].path == str(tmp_path / "runs" / "front")
