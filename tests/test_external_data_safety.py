"""External data is checked in every tensor of a model (issue 10, findings 9 and 10): each escape or bad reference
is one line `stitchc: error: FILE: tensor 'T' (PLACE): cause`, exit 2, for `inspect` and `convert` alike, and
a reference that is fine is read inline so that `convert` never writes a reference of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

from stitchc.cli import main
from stitchc.ir.runtime import run
from stitchc.ir.tensor_places import model_tensors

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from onnx_mutants import SECRET, set_external  # noqa: E402
from onnx_seeds import seeds  # noqa: E402

# seed model -> (tensor, its place): one tensor in each place a reference can hide
PLACES = {
    "function": ("scale", "function Scale, node Constant"),
    "if": ("then_t", "node If then_branch, node Constant"),
    "loop": ("step_t", "node Loop body, node Constant"),
    "sparse": ("bias", "sparse initializer"),
    "conv": ("conv1.weight", "initializer"),
}


def external_model(tmp_path, seed: str, location: str, payload: bytes | None = None, **entries) -> str:
    """The seed model with tensor PLACES[seed] stored at `location` (and `payload` written to weights.bin)."""
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (tmp_path / "outside").mkdir(exist_ok=True)
    (tmp_path / "outside" / "SECRET.bin").write_bytes(SECRET * 64)
    if payload is not None:
        (folder / "weights.bin").write_bytes(payload)
    model = seeds()[seed]
    name = PLACES[seed][0]
    tensor = next(t for _, t in model_tensors(model) if t.name == name)
    set_external(tensor, location, **entries)
    path = str(folder / "m.onnx")
    onnx.save(model, path)
    return path


def one_line_error(capsys, argv) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("stitchc: error: "), err
    return err.strip()


@pytest.mark.parametrize("seed", sorted(PLACES))
def test_an_escape_is_refused_in_every_place(tmp_path, capsys, seed):
    path = external_model(tmp_path, seed, "../outside/SECRET.bin")
    name, place = PLACES[seed]
    expected = (
        f"stitchc: error: {path}: tensor '{name}' ({place}): external data path '../outside/SECRET.bin' "
        "leaves the model's folder"
    )
    assert one_line_error(capsys, ["inspect", path]) == expected
    out = tmp_path / "out.onnx"
    assert one_line_error(capsys, ["convert", path, "-o", str(out)]) == expected
    assert not out.exists()


def refusal(tmp_path, kind: str) -> tuple[str, str]:
    """(model path, expected cause) of one kind of bad reference, in a model-local function's body."""
    folder, secret = tmp_path / "model", tmp_path / "outside" / "SECRET.bin"
    path = external_model(tmp_path, "function", "weights.bin")
    if kind == "absolute":
        return external_model(
            tmp_path, "function", str(secret)
        ), f"external data path '{secret}' leaves the model's folder"
    if kind == "dev/zero":
        return external_model(
            tmp_path, "function", "/dev/zero"
        ), "external data path '/dev/zero' leaves the model's folder"
    if kind == "symlink":
        os.symlink(secret, folder / "weights.bin")
        return path, "external data path 'weights.bin' leaves the model's folder"
    if kind == "hard link":
        os.link(secret, folder / "weights.bin")
        return path, (
            "external data file 'weights.bin' has 2 hard links (refused: it may be a file from outside the model's "
            "folder)"
        )
    if kind == "fifo":
        os.mkfifo(folder / "weights.bin")
        return path, "external data file 'weights.bin' is not a regular file (a device, FIFO or folder)"
    if kind == "folder":
        os.mkdir(folder / "weights.bin")
        return path, "external data file 'weights.bin' is not a regular file (a device, FIFO or folder)"
    if kind == "nul":
        location = "weights.bin\x00../outside/SECRET.bin"
        return external_model(tmp_path, "function", location), (
            "external data path 'weights.bin\\x00../outside/SECRET.bin' holds a NUL byte"
        )
    if kind == "missing":
        return path, "missing external data file 'weights.bin'"
    if kind == "no location":
        return external_model(tmp_path, "function", ""), "external data without a location"
    payload = b"\0" * 64
    entries = {
        "offset -1": {"offset": "-1"},
        "offset abc": {"offset": "abc"},
        "length -1": {"length": "-1"},
        "length 1e3": {"length": "1e3"},
        "beyond the file": {"offset": "32", "length": "64"},
    }[kind]
    causes = {
        "offset -1": "external data offset '-1' is not a non-negative integer",
        "offset abc": "external data offset 'abc' is not a non-negative integer",
        "length -1": "external data length '-1' is not a non-negative integer",
        "length 1e3": "external data length '1e3' is not a non-negative integer",
        "beyond the file": "external data file 'weights.bin' holds 64 bytes, fewer than the 96 that offset 32 and "
        "length 64 need",
    }
    return external_model(tmp_path, "function", "weights.bin", payload, **entries), causes[kind]


KINDS = [
    "absolute",
    "dev/zero",
    "symlink",
    "hard link",
    "fifo",
    "folder",
    "nul",
    "missing",
    "no location",
    "offset -1",
    "offset abc",
    "length -1",
    "length 1e3",
    "beyond the file",
]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_references_are_one_line_errors(tmp_path, capsys, kind):
    path, cause = refusal(tmp_path, kind)
    assert one_line_error(capsys, ["inspect", path]) == (
        f"stitchc: error: {path}: tensor 'scale' (function Scale, node Constant): {cause}"
    )


def test_a_fifo_is_refused_without_waiting(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the check must never open it that way."""
    path, _ = refusal(tmp_path, "fifo")
    result = subprocess.run(
        [sys.executable, "-m", "stitchc.cli", "inspect", path], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "is not a regular file" in result.stderr


def test_a_model_path_that_is_not_a_file(tmp_path, capsys):
    os.mkfifo(tmp_path / "m.onnx")
    assert one_line_error(capsys, ["inspect", str(tmp_path / "m.onnx")]) == (
        f"stitchc: error: {tmp_path / 'm.onnx'}: not a regular file"
    )


def test_good_references_in_functions_are_read_inline_and_converted_without_references(tmp_path, capsys):
    """A function body's Constant stored outside the model, in its folder: same outputs, and the converted model
    holds the bytes itself (no reference of any kind survives)."""
    original = seeds()["function"]
    tensor = next(t for _, t in model_tensors(original) if t.name == "scale")
    path = external_model(
        tmp_path, "function", "weights.bin", tensor.raw_data or np.array(tensor.float_data, np.float32).tobytes()
    )
    out = tmp_path / "out.onnx"
    assert main(["convert", path, "-o", str(out)]) == 0, capsys.readouterr().err
    converted = onnx.load(str(out), load_external_data=False)
    assert not any(t.external_data or t.data_location == onnx.TensorProto.EXTERNAL for _, t in model_tensors(converted))
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(run(converted, {"x": x})[0], run(original, {"x": x})[0], rtol=1e-6)


def test_sparse_initializers_import_as_dense_constants(tmp_path, capsys):
    path = tmp_path / "sparse.onnx"
    onnx.save(seeds()["sparse"], path)
    out = tmp_path / "out.onnx"
    assert main(["convert", str(path), "-o", str(out)]) == 0, capsys.readouterr().err
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(run(onnx.load(out), {"x": x})[0], x + np.array([0, 1.5, 0, -2], np.float32))


def test_an_in_memory_model_with_a_reference_is_refused():
    """`from_onnx` never reads files: a reference it was handed unread is an error, never carried into an output."""
    from stitchc.ir import ModelLoadError
    from stitchc.ir.onnx_import import from_onnx

    model = seeds()["function"]
    tensor = next(t for _, t in model_tensors(model) if t.name == "scale")
    set_external(tensor, "../outside/SECRET.bin")
    with pytest.raises(ModelLoadError) as refused:
        from_onnx(model, "m")
    assert str(refused.value) == (
        "<model>: tensor 'scale' (function Scale, node Constant) refers to external data that was not read"
    )
