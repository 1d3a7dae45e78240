"""Results back as PyTorch: `export ... as torch` writes front_NN.pt2 files that load and run with torch alone
and predict what their ONNX twins predict; every exported model carries its provenance; torch is imported
only when a spec asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import onnx
import pytest
import torch

from stitchc.cli import main
from stitchc.export_torch import TorchExportError, export_pt2
from stitchc.grammar.checker import load_program
from stitchc.run import _torch_dirs

NETS = """
import torch
from torch import nn


class Flat(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv(x)))
        return self.fc(h.view(h.size(0), -1))  # exported as Shape -> Gather -> Concat -> Reshape
"""

SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
model t = torch("nets.py:Flat", weights = "flat.pt", input = f32[N, 1, 8, 8])
stitch at = a <-> t {{ fit = digits.train(samples = 256) }}
search front over at {{
    algorithm  = nsga2(population = 8, generations = 2, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
export front.pareto to "{out}" as onnx
export front.pareto to "{out}" as torch
"""

# Runs in a process where stitchc cannot be imported: each .pt2 against ONNX Runtime on its .onnx twin.
WITHOUT_STITCHC = """
import importlib.util, json, sys
assert importlib.util.find_spec("stitchc") is None, "stitchc is importable"
import numpy as np, onnxruntime as ort, torch
x, y = np.load("x_test.npy"), np.load("y_test.npy")
ort.set_default_logger_severity(3)
results = {}
for path in sys.argv[1:]:
    module = torch.export.load(path).module()
    with torch.no_grad():
        scores = module(torch.from_numpy(x)).numpy()
        single = module(torch.from_numpy(x[:1])).numpy()
    session = ort.InferenceSession(path[:-4] + ".onnx", providers=["CPUExecutionProvider"])
    twin = session.run(None, {session.get_inputs()[0].name: x})[0]
    scale = float(np.abs(twin).max())
    results[path] = {
        "same_argmax": bool((scores.argmax(1) == twin.argmax(1)).all()),
        "relative": float(np.abs(scores - twin).max()) / scale,
        "relative_batch_1": float(np.abs(single - twin[:1]).max()) / scale,
        "accuracy": float(np.mean(scores.argmax(1) == y)),
    }
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, parent_paths):
    folder = tmp_path_factory.mktemp("torch_export")
    (folder / "nets.py").write_text(NETS)
    namespace: dict = {}
    exec(NETS, namespace)
    torch.manual_seed(0)
    torch.save(namespace["Flat"]().state_dict(), folder / "flat.pt")
    spec = folder / "spec.stitch"
    out = folder / "out"
    spec.write_text(SPEC.format(a=parent_paths[0], out=out))
    assert main(["run", str(spec)]) == 0
    return out


def _front(out) -> list[dict]:
    return json.loads((out / "front.json").read_text())["front"]


def test_each_onnx_file_has_a_pt2_twin(run_dir):
    names = sorted(p["file"] for p in _front(run_dir))
    assert len(names) >= 2
    assert sorted(p.name for p in run_dir.glob("front_*")) == sorted(names + [n[:-5] + ".pt2" for n in names])


def test_pt2_runs_without_stitchc_and_agrees_with_its_onnx_twin(run_dir, digits):
    paths = sorted(str(p) for p in run_dir.glob("front_*.pt2"))
    np.save(run_dir / "x_test.npy", digits.test.x)
    np.save(run_dir / "y_test.npy", digits.test.y)
    site = os.path.dirname(os.path.dirname(torch.__file__))  # torch, numpy, onnxruntime, sklearn; no .pth files
    result = subprocess.run(
        [sys.executable, "-S", "-c", WITHOUT_STITCHC, *paths],
        capture_output=True,
        text=True,
        cwd=run_dir,
        env={**os.environ, "PYTHONPATH": site},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout)
    for point in _front(run_dir):
        found = measured[str(run_dir / point["file"][:-5]) + ".pt2"]
        assert found["same_argmax"], point["file"]
        assert found["relative"] <= 1e-4 and found["relative_batch_1"] <= 1e-4, (point["file"], found)
        assert found["accuracy"] == next(iter(point["test"].values()))  # accuracy on the test split


def test_exported_models_carry_their_provenance(run_dir):
    for point in _front(run_dir):
        model = onnx.load(str(run_dir / point["file"]))
        fields = {p.key: json.loads(p.value) for p in model.metadata_props}  # every value is JSON text
        assert fields["stitchc.version"] == version("stitchc")
        assert fields["stitchc.search"] == "front"
        assert set(fields["stitchc.parents"]) == {"a", "t"}
        for key in ("genome", "choices", "program", "parent"):
            assert fields[f"stitchc.{key}"] == point[key]
        objectives = {k: v for k, v in point.items() if k not in ("file", "genome", "choices", "program", "parent")}
        assert fields["stitchc.objectives"] == objectives and "macs" in objectives
        extra = {"stitchc.json": ""}
        torch.export.load(str(run_dir / point["file"][:-5]) + ".pt2", extra_files=extra)
        assert json.loads(extra["stitchc.json"]) == {k.removeprefix("stitchc."): v for k, v in fields.items()}


def test_pt2_export_failure_names_the_file_and_the_cause(tmp_path, parent_paths):
    model = onnx.load(parent_paths[0])
    last = model.graph.node[-1]
    model.graph.node.append(onnx.helper.make_node("Hardmax", [last.output[0]], ["hard"], name="hardmax"))
    model.graph.output[0].name = "hard"
    onnx.save(model, str(tmp_path / "m.onnx"))
    target = tmp_path / "m.pt2"
    with pytest.raises(TorchExportError) as raised:
        export_pt2(str(tmp_path / "m.onnx"), str(target))
    assert (
        str(raised.value)
        == f"{target}: cannot export m.onnx to torch (no torch lowering for op Hardmax (node hardmax))"
    )
    assert not target.exists()


def _onnx_only(parent_paths, out, torch_export: bool = True) -> str:
    """The spec with ONNX parents only (and without its `as torch` line unless asked)."""
    text = SPEC.format(a=parent_paths[0], out=out)
    text = text.replace(
        'torch("nets.py:Flat", weights = "flat.pt", input = f32[N, 1, 8, 8])', f'onnx("{parent_paths[1]}")'
    )
    return text if torch_export else "".join(line for line in text.splitlines(True) if "as torch" not in line)


def test_unknown_export_format_is_located_with_a_hint(tmp_path, parent_paths, capsys):
    spec = tmp_path / "spec.stitch"
    text = _onnx_only(parent_paths, tmp_path).replace("as torch", "as troch")
    spec.write_text(text)
    assert main(["check", str(spec)]) == 2
    lines = capsys.readouterr().err.splitlines()
    column = text.splitlines()[10].index("troch") + 1
    assert lines[0] == f"{spec}:11:{column}: error: unknown export format 'troch'"
    assert lines[-1] == "    hint: did you mean 'torch'?"


def test_a_run_without_torch_exports_or_torch_parents_does_not_import_torch(tmp_path, parent_paths):
    spec = tmp_path / "spec.stitch"
    spec.write_text(_onnx_only(parent_paths, tmp_path / "out", torch_export=False))
    script = (
        "import sys\nfrom stitchc.cli import main\n"
        f"assert main(['run', {str(spec)!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "out").glob("*.onnx")) and not list((tmp_path / "out").glob("*.pt2"))


def test_torch_exports_go_to_their_own_folder_unless_out_overrides(tmp_path, parent_paths):
    spec = tmp_path / "spec.stitch"
    text = _onnx_only(parent_paths, tmp_path / "onnx")
    spec.write_text(text.replace(f'"{tmp_path / "onnx"}" as torch', f'"{tmp_path / "pt2"}" as torch'))
    program = load_program(str(spec))
    search = program.searches["front"]
    assert _torch_dirs(program, search, None) == [str(tmp_path / "pt2")]
    assert _torch_dirs(program, search, "elsewhere") == ["elsewhere"]
