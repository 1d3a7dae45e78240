"""Import PyTorch modules: export once with torch.onnx.export, then import the ONNX model into the IR.

Guarantees: the module is exported in eval mode (its training flag is restored afterwards) with torch's fused
attention fast path switched off for the export only (nn.MultiheadAttention and nn.TransformerEncoderLayer then
trace exportable ops; weights are untouched); the dynamo exporter is an optional extra (`pip install
'stitchc[dynamo]'` brings onnxscript), and `dynamo=True` without it raises ModelLoadError saying so; node
provenance holds module paths ('layer1.0.conv1') from either exporter; `load_torch` reports a missing
file, a missing class, a module that cannot be built, weights that cannot be read or do not fit, and a
forward that fails on the declared input as a ModelLoadError naming the file. Weights are read with `torch.load(..., weights_only=True)`.
"""

from __future__ import annotations

import io
import os
import warnings
import zlib
from collections.abc import Sequence

import numpy as np
import onnx
import torch

from .errors import ModelLoadError
from .graph import Graph
from .onnx_import import from_onnx
from .types import TensorType
from .user_code import UserCodeError, call_user, describe, import_file, user_line


def from_torch(
    module: torch.nn.Module,
    example_inputs,
    parent: str | None = None,
    dynamo: bool = False,
    batch_dim: str | None = "N",
    opset: int = 17,
) -> Graph:
    """The IR graph of `module` traced on `example_inputs` (a tensor or a tuple of tensors).

    With `batch_dim`, dim 0 of every input and output is the symbol of that name (TorchScript exporter);
    the dynamo exporter (`dynamo=True`) exports static shapes.
    """
    inputs = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    parent = parent or type(module).__name__
    if dynamo:
        _require_onnxscript(f"<torch {parent}>")
    model = export_onnx(module, tuple(inputs), dynamo, batch_dim, opset)
    return from_onnx(model, parent, source=f"<torch {parent}>")


def export_onnx(
    module: torch.nn.Module, inputs: tuple, dynamo: bool = False, batch_dim: str | None = "N", opset: int = 17
) -> onnx.ModelProto:
    """The ONNX model torch.onnx.export makes of `module` in eval mode (the one from_torch imports)."""
    return onnx.load_from_string(_export(module, inputs, dynamo, batch_dim, opset))


def _require_onnxscript(source: str) -> None:
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter imports it lazily and fails mid-export without it)
    except ImportError:
        raise ModelLoadError(
            source, "the dynamo exporter needs onnxscript: pip install 'stitchc[dynamo]' (or use dynamo=False)"
        ) from None


def _export(module, inputs: tuple, dynamo: bool, batch_dim: str | None, opset: int) -> bytes:
    names = ["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))]
    buffer, was_training, fast_path = io.BytesIO(), module.training, torch.backends.mha.get_fastpath_enabled()
    module.eval()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel (_native_multi_head_attention) has no export
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            if dynamo:
                program = torch.onnx.export(
                    module, inputs, dynamo=True, opset_version=max(opset, 18), input_names=names, verbose=False
                )
                program.optimize()
                return program.model_proto.SerializeToString()
            axes = {name: {0: batch_dim} for name in names} if batch_dim else None
            torch.onnx.export(
                module,
                inputs,
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=names,
                dynamic_axes=axes,
                verbose=False,
            )
    finally:
        module.train(was_training)
        torch.backends.mha.set_fastpath_enabled(fast_path)
    return buffer.getvalue()


def load_torch(
    spec: str, weights: str | os.PathLike | None, input_type: TensorType | Sequence, parent: str | None = None
) -> Graph:
    """Builds `ClassName()` from "path/file.py:ClassName", loads `weights`, exports it on an input of `input_type`.

    `input_type` is a TensorType or a shape (float32); symbolic dims (strings) become dynamic of that name.
    The module is built under a seed drawn from its parent name: without `weights`, its random initial weights
    are the same in every run and process (a run on random parents is reproducible), and differ between two
    parents of one class.
    """
    path, _, class_name = spec.rpartition(":")
    if not path or not class_name:
        raise ModelLoadError(spec, "expected 'path/file.py:ClassName'")
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(zlib.crc32((parent or class_name).encode()))
        module = _instantiate(path, class_name)
    if weights is not None:
        _load_weights(module, os.fspath(weights), class_name)
    if not isinstance(input_type, TensorType):
        input_type = TensorType(np.dtype(np.float32), tuple(input_type))
    example = _example(input_type)
    symbols = [d for d in (input_type.shape or ())[:1] if isinstance(d, str)]
    try:
        return from_torch(module, example, parent or class_name, batch_dim=symbols[0] if symbols else None)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 (the user's forward, or its export, fails in many ways)
        line = user_line(error, path)
        where = f", line {line} of {os.path.basename(path)}" if line is not None else ""
        raise ModelLoadError(path, f"{class_name} does not run on {input_type} ({describe(error)}{where})") from None


def _instantiate(path: str, class_name: str) -> torch.nn.Module:
    if not os.path.isfile(path):
        raise ModelLoadError(path, "no such file")
    try:
        code = import_file(path, "stitchc_user_")
    except UserCodeError as error:  # user code can raise (or exit with) anything
        raise ModelLoadError(path, f"cannot import ({error.cause}){error.where}") from None
    cls = getattr(code, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        known = sorted(
            k
            for k, v in vars(code).items()
            if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == code.__name__
        )
        raise ModelLoadError(path, f"no nn.Module class '{class_name}' (defines: {', '.join(known) or 'none'})")
    try:
        return call_user(path, cls)
    except UserCodeError as error:
        raise ModelLoadError(path, f"{class_name}() failed ({error.cause}){error.where}") from None


def _load_weights(module: torch.nn.Module, path: str, class_name: str) -> None:
    if not os.path.isfile(path):
        raise ModelLoadError(path, "no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises pickle, zip and runtime errors alike
        raise ModelLoadError(path, f"not a readable torch weights file ({_first_line(error)})") from None
    if not isinstance(state, dict):
        raise ModelLoadError(path, f"holds a {type(state).__name__}, not a state dict")
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())
        raise ModelLoadError(path, f"weights do not fit {class_name}: {detail[:300]}") from None


def _example(input_type: TensorType) -> torch.Tensor:
    shape = [d if isinstance(d, int) else 2 for d in input_type.shape]
    dtype = torch.from_numpy(np.zeros(0, dtype=input_type.dtype)).dtype
    return torch.zeros(shape, dtype=dtype)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
