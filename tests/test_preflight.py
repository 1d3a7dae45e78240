"""Check before work: `stitchc check` loads every dataset and parent and refuses a parent whose input does not fit
its data, with one located line naming both types; ONNX Runtime failures never reach the user as tracebacks."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from stitchc.cli import main
from stitchc.ir.errors import ExecutionError
from stitchc.ir.runtime import predict
from stitchc.ir.samples import as_samples

NETS = """
import torch
from torch import nn

class Pooled(nn.Module):
    '''Any input size: conv, global average pool, linear.'''
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))
"""

SPEC = """stitch 1
data d = npz("d16.npz", split = [0.6, 0.2, 0.2], seed = 0)
model a = torch("nets.py:Pooled", input = f32[N, 1, 16, 16])
model b = torch("nets.py:Pooled", input = f32[N, 1, 28, 28])
stitch ab = a <-> b { fit = d.train(samples = 64) }
search front over ab {
    algorithm  = nsga2(population = 4, generations = 1, seed = 1)
    objectives = [maximize accuracy(d.val), minimize macs]
}
"""


@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d16.npz", x=rng.random((50, 1, 16, 16), dtype=np.float32), y=rng.integers(0, 10, 50))
    (tmp_path / "nets.py").write_text(NETS)
    return tmp_path


def _check(folder, spec: str, capsys) -> list[str]:
    path = folder / "spec.stitch"
    path.write_text(spec)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if ": error: " in line]


def test_parent_input_that_does_not_fit_the_data_is_one_located_line(folder, capsys):
    errors = _check(folder, SPEC, capsys)
    assert errors == [
        f"{folder}/spec.stitch:4:17: error: model 'b' takes float32[N, 1, 28, 28] but data 'd' gives float32[N, 1, 16, 16]"
    ]


def test_fitting_parents_check(folder, capsys):
    path = folder / "spec.stitch"
    path.write_text(SPEC.replace("28, 28", "16, 16"))
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok\n"


def test_onnx_parent_of_another_size(folder, parent_paths, capsys):
    spec = SPEC.replace('torch("nets.py:Pooled", input = f32[N, 1, 16, 16])', f'onnx("{parent_paths[0]}")')
    errors = _check(folder, spec.replace("28, 28", "16, 16"), capsys)
    assert errors == [
        f"{folder}/spec.stitch:3:16: error: model 'a' takes float32[N, 1, 8, 8] but data 'd' gives float32[N, 1, 16, 16]"
    ]


def test_check_builds_torch_parents_and_loads_their_weights(folder, capsys):
    import torch

    torch.save({"conv.weight": torch.zeros(4, 1, 3, 3)}, folder / "partial.pt")
    spec = SPEC.replace("28, 28", "16, 16").replace(
        "input = f32[N, 1, 16, 16])\nmodel b", 'weights = "partial.pt", input = f32[N, 1, 16, 16])\nmodel b'
    )
    errors = _check(folder, spec, capsys)
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder}/spec.stitch:3:17: error: cannot import model 'a': weights do not fit Pooled")


def test_data_that_cannot_be_read_is_located_at_its_declaration(folder, capsys):
    np.savez(folder / "d16.npz", images=np.zeros((4, 1, 16, 16)), y=np.arange(4))
    errors = _check(folder, SPEC.replace("28, 28", "16, 16"), capsys)
    assert errors == [
        f"{folder}/spec.stitch:2:6: error: cannot load data 'd': {folder}/d16.npz: no array 'x' (arrays: images, y)"
    ]


def test_unreadable_image_during_a_run_is_one_line(folder, capsys):
    from PIL import Image

    for label in range(2):
        (folder / "imgs" / str(label)).mkdir(parents=True)
        for i in range(20):
            Image.fromarray(np.full((16, 16), 10 * i + label, dtype=np.uint8)).save(
                folder / "imgs" / str(label) / f"{i}.png"
            )
    broken = folder / "imgs" / "1" / "7.png"
    broken.write_bytes(broken.read_bytes()[:40])  # the header reads, the pixels do not
    path = folder / "spec.stitch"
    path.write_text(SPEC.replace("28, 28", "16, 16").replace('npz("d16.npz"', 'images("imgs", channels = 1'))
    assert main(["run", str(path), "--out", str(folder / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"stitchc: error: {broken}: unreadable image (")


def test_onnx_runtime_failures_are_one_line_errors():
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "K"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.zeros(12, dtype=np.float32))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    scores, labels = predict(model, as_samples(np.ones((5, 4), dtype=np.float32), np.arange(5)), batch=2)
    assert scores.shape == (5, 3) and list(labels) == [0, 1, 2, 3, 4]
    with pytest.raises(ExecutionError) as caught:
        predict(model, as_samples(np.ones((5, 6), dtype=np.float32)))
    message = str(caught.value)
    assert message.startswith("ONNX Runtime failed on model 'g': ") and "\n" not in message
