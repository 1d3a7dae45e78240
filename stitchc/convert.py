"""`stitchc convert IN -o OUT [--opset N] [--passes a,b] [--spec FILE [--pipeline NAME]]`: import, run
registered passes (built-ins, std.stitch rules) and a spec's pipeline, lower, write.

Every failure is a ConvertError (or the ModelLoadError of the import) whose message names the file.
"""

from __future__ import annotations

import onnx

from stitchc.grammar.std_library import available_passes, get_pass
from stitchc.ir import Graph, load_onnx
from stitchc.passes.base import PassBase, PassManager


class ConvertError(Exception):
    """A conversion cannot be done; the message is `subject: cause`."""


def convert(
    source: str, target: str, opset: int | None = None, passes: list[str] = (), pipeline: PassBase | None = None
) -> Graph:
    """Imports `source`, runs the named passes then `pipeline` (a spec's), lowers and writes `target`."""
    known = available_passes()
    unknown = [name for name in passes if name not in known]
    if unknown:
        raise ConvertError(f"--passes: unknown pass '{unknown[0]}' (known: {', '.join(known)})")
    if opset is not None and not 7 <= opset <= onnx.defs.onnx_opset_version():
        raise ConvertError(f"--opset: {opset} is not between 7 and {onnx.defs.onnx_opset_version()}")
    graph = load_onnx(source)
    graph = PassManager([get_pass(name) for name in passes] + ([pipeline] if pipeline else []))(graph).graph
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
