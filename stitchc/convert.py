"""`stitchc convert IN -o OUT [--opset N] [--passes a,b]`: import, run registered passes, lower, write.

Every failure is a ConvertError (or the ModelLoadError of the import) whose message names the file.
"""
from __future__ import annotations

import importlib
import pkgutil

import onnx

import stitchc.passes
from stitchc.ir import Graph, load_onnx
from stitchc.passes.base import REGISTRY, PassManager


class ConvertError(Exception):
    """A conversion cannot be done; the message is `subject: cause`."""


def registered_passes() -> dict:
    """The pass registry after importing every module of stitchc.passes (each registers its passes)."""
    for module in pkgutil.iter_modules(stitchc.passes.__path__):
        importlib.import_module(f"stitchc.passes.{module.name}")
    return REGISTRY


def convert(source: str, target: str, opset: int | None = None, passes: list[str] = ()) -> Graph:
    registry = registered_passes()
    unknown = [name for name in passes if name not in registry]
    if unknown:
        raise ConvertError(f"--passes: unknown pass '{unknown[0]}' (known: {', '.join(sorted(registry))})")
    if opset is not None and not 7 <= opset <= onnx.defs.onnx_opset_version():
        raise ConvertError(f"--opset: {opset} is not between 7 and {onnx.defs.onnx_opset_version()}")
    graph = load_onnx(source)
    graph = PassManager([registry[name]() for name in passes])(graph).graph
    try:
        model = graph.to_onnx(opset=opset)
    except Exception as error:  # the version converter raises several types
        raise ConvertError(f"{source}: cannot lower to opset {opset} ({str(error).strip().splitlines()[0]})") from None
    _write(model, target)
    return graph


def _write(model: onnx.ModelProto, target: str) -> None:
    try:
        with open(target, "wb") as handle:
            handle.write(model.SerializeToString())
    except OSError as error:
        raise ConvertError(f"{target}: cannot write ({error.strerror or error})") from None
