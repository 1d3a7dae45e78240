"""Every example of docs/language.md is checked: each fenced ```stitch block parses and checks (as a file in
specs/), and the worked example ("Your own networks and data": blocks whose first line is `# FILE`) is written
into an empty folder, its Python files run in order, and each of its specs checked and run end to end. The
README's specs are copies of checked ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from stitchc.cli import main
from stitchc.grammar.checker import check
from stitchc.grammar.parser import parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = open(os.path.join(ROOT, "docs", "language.md"), encoding="utf-8").read()
FENCED = re.findall(r"```(stitch|python)\n(.*?)```", DOC, re.S)
FILES = {m.group(1): text for kind, text in FENCED if (m := re.match(r"# (\S+\.(?:py|stitch))\n", text))}
BLOCKS = [text for kind, text in FENCED if kind == "stitch" and not re.match(r"# \S+\.stitch\n", text)]


def test_the_reference_has_examples():
    assert len(BLOCKS) >= 6
    assert {"make_data.py", "nets.py", "train.py", "own.stitch", "own_images.stitch"} <= set(FILES)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_checks(index):
    check(parse(BLOCKS[index], os.path.join(ROOT, "specs", f"doc{index}.stitch")))


def test_readme_specs_are_checked_copies():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    specs = re.findall(r"```stitch\n(.*?)```", readme, re.S)
    assert specs and all(spec in FILES.values() or spec in BLOCKS for spec in specs)


@pytest.fixture(scope="module")
def worked_example(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    for name, text in FILES.items():
        (folder / name).write_text(text)
    for name in FILES:
        if name.endswith(".py") and name != "nets.py":
            subprocess.run([sys.executable, name], cwd=folder, check=True, timeout=300)
    return folder


@pytest.mark.parametrize("spec", sorted(name for name in FILES if name.endswith(".stitch")))
def test_worked_example_checks_and_runs(worked_example, spec, capsys):
    path = str(worked_example / spec)
    assert main(["check", path]) == 0
    assert main(["run", path]) == 0
    out = re.search(r'export front.pareto to "([^"]+)"', FILES[spec]).group(1)
    document = json.load(open(worked_example / out / "front.json"))
    first = document["objectives"][0]["name"]  # accuracy or balanced accuracy on the validation split
    assert all(parent["objectives"][first] > 0.9 for parent in document["parents"].values())  # trained parents
    assert document["front"] and all(os.path.exists(worked_example / out / p["file"]) for p in document["front"])
    if "as torch" in FILES[spec]:
        _assert_pt2_twins_agree(worked_example / out, [p["file"] for p in document["front"]])


def _assert_pt2_twins_agree(folder, onnx_files: list[str]) -> None:
    """Each front_NN.pt2 computes what its front_NN.onnx computes: same predictions, outputs within 1e-4
    (tests/test_export_torch.py checks the same in a process where stitchc cannot be imported)."""
    import numpy as np
    import onnx
    import torch

    from stitchc.ir.runtime import run

    x = np.load(folder.parent / "digits16.npz")["images"][:256]
    for name in onnx_files:
        expected = run(onnx.load(str(folder / name)), x)[0]
        program = torch.export.load(str(folder / name.replace(".onnx", ".pt2")))
        with torch.no_grad():
            actual = program.module()(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(actual.argmax(1), expected.argmax(1))
        assert np.max(np.abs(actual - expected)) <= 1e-4 * np.max(np.abs(expected))


def test_worked_example_refuses_a_parent_of_another_size(worked_example, capsys):
    path = worked_example / "wrong_size.stitch"
    path.write_text(FILES["own.stitch"].replace("f32[N, 1, 16, 16]", "f32[N, 1, 28, 28]", 1))
    assert main(["check", str(path)]) == 2
    error = capsys.readouterr().err.splitlines()[0]
    quoted = re.search(r"`own\.stitch(:\d+:\d+: error: model 'a' takes [^`]+)`", DOC).group(1)
    assert error == f"{path}{quoted}"
