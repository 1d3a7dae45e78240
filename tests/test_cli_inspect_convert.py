"""`stitchc inspect` and `stitchc convert`: their output, and one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import external_data_helper

import stitchc
from stitchc.cli import main
from stitchc.ir.runtime import run


def stitchc_cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_inspect_reports_io_ops_costs_and_points(capsys, parent_paths):
    status, out, err = stitchc_cli(capsys, "inspect", parent_paths[0])
    graph = stitchc.load(parent_paths[0])
    assert status == 0 and err == ""
    assert "image: float32[N, 1, 8, 8]" in out and "logits: float32[N, 10]" in out
    assert "Conv 2" in out and f"MACs: {graph.macs():,} per sample" in out and f"params: {graph.params():,}" in out
    assert "relu1" in out and "float32[N, 16, 4, 4]" in out


def test_convert_preserves_outputs_and_moves_opset(capsys, parent_paths, digits, tmp_path):
    target = tmp_path / "out.onnx"
    status, _, err = stitchc_cli(
        capsys, "convert", parent_paths[1], "-o", str(target), "--opset", "21", "--passes", "dce"
    )
    assert status == 0, err
    converted = onnx.load(target)
    assert {o.domain: o.version for o in converted.opset_import}[""] == 21
    np.testing.assert_allclose(
        run(converted, digits.val.x)[0], run(onnx.load(parent_paths[1]), digits.val.x)[0], rtol=1e-4, atol=1e-6
    )


def write_external(tmp_path, location: str):
    """digits_small with its weights moved to `location` (relative to the model's folder)."""
    model = onnx.load(os.path.join(os.path.dirname(__file__), "..", "specs", "models", "digits_small.onnx"))
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    external_data_helper.convert_model_to_external_data(model, location="weights.bin", size_threshold=0)
    onnx.save(model, folder / "m.onnx")  # writes folder/weights.bin
    if location != "weights.bin":
        for tensor in model.graph.initializer:
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location
        onnx.save_model(model, folder / "m.onnx", save_as_external_data=False)
    return folder / "m.onnx"


def test_external_data_inside_the_folder_loads(tmp_path, digits):
    path = write_external(tmp_path, "weights.bin")
    reference = stitchc.load(os.path.join(os.path.dirname(__file__), "..", "specs", "models", "digits_small.onnx"))
    np.testing.assert_array_equal(run(stitchc.load(path), digits.val.x)[0], run(reference, digits.val.x)[0])


def bad_inputs(tmp_path, parent_paths):
    """(name, argv, expected cause) for every kind of bad input."""
    data = open(parent_paths[0], "rb").read()
    (tmp_path / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (tmp_path / "corrupt.onnx").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    (tmp_path / "text.onnx").write_text('stitch 1\nmodel a = onnx("a.onnx")\n')
    (tmp_path / "empty.onnx").write_bytes(b"")
    missing = write_external(tmp_path / "m1", "weights.bin")
    os.remove(missing.parent / "weights.bin")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 8192)
    escaping = write_external(tmp_path / "m2", "../../secret.bin")
    out = str(tmp_path / "ok.onnx")
    return [
        ("truncated", ["convert", str(tmp_path / "truncated.onnx"), "-o", out], "truncated or corrupt"),
        ("corrupt", ["inspect", str(tmp_path / "corrupt.onnx")], "truncated or corrupt|not an ONNX model"),
        ("not onnx", ["inspect", str(tmp_path / "text.onnx")], "truncated or corrupt|not an ONNX model"),
        ("empty", ["inspect", str(tmp_path / "empty.onnx")], "empty file"),
        ("no file", ["inspect", str(tmp_path / "nope.onnx")], "no such file"),
        ("missing external data", ["inspect", str(missing)], "missing external data file 'weights.bin'"),
        ("escaping external data", ["convert", str(escaping), "-o", out], "leaves the model's folder"),
        (
            "unwritable output",
            ["convert", parent_paths[0], "-o", str(tmp_path / "no" / "dir" / "x.onnx")],
            "cannot write",
        ),
        (
            "unknown pass",
            ["convert", parent_paths[0], "-o", out, "--passes", "dce,fold_everything"],
            "unknown pass 'fold_everything' \\(known: .*dce",
        ),
        ("bad opset", ["convert", parent_paths[0], "-o", out, "--opset", "3"], "--opset: 3 is not between 7"),
    ]


def test_bad_inputs_give_one_line_errors(capsys, tmp_path, parent_paths):
    for name, argv, cause in bad_inputs(tmp_path, parent_paths):
        status, out, err = stitchc_cli(capsys, *argv)
        assert status == 2, name
        assert err.count("\n") == 1 and err.startswith("stitchc: error: "), (name, err)
        assert re.search(cause, err), (name, err)
        assert "Traceback" not in err


def test_the_installed_command_reports_without_traceback(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12")
    result = subprocess.run([sys.executable, "-m", "stitchc.cli", "inspect", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f"stitchc: error: {bad}: ") and result.stderr.count("\n") == 1


def test_an_absurd_worker_count_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "specs/digits.stitch", "--workers", "99999999999999999999"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("stitchc run: error: argument --workers: 99999999999999999999 workers is more than 1024")


def test_an_activation_cache_size_that_is_no_size_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "specs/digits.stitch", "--activation-cache", "2X"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "stitchc run: error: argument --activation-cache: expected a size such as 2G, 512M or 0, got '2X'"


def test_the_activation_cache_changes_no_result(tmp_path):
    """The digits run with no activation cache, a 64 KiB one (evicting) and the default: the same front."""
    from tests.conftest import front_bytes

    spec = os.path.join(os.path.dirname(__file__), "..", "specs", "digits.stitch")
    fronts = []
    for size in ("0", "64K", None):
        out = tmp_path / f"out{size}"
        assert main(["run", spec, "--out", str(out), "--quiet"] + (["--activation-cache", size] if size else [])) == 0
        fronts.append(front_bytes(out))
    assert fronts[0] == fronts[1] == fronts[2]


def test_more_workers_than_cores_are_capped_and_said(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    spec = os.path.join(os.path.dirname(__file__), "..", "specs", "digits.stitch")
    assert main(["run", spec, "--out", str(tmp_path), "--workers", "64"]) == 0
    assert "stitchc: note: --workers 64 capped at this machine's 2 cores" in capsys.readouterr().err
