"""stitchc: a declarative graph-IR compiler that recombines trained neural networks.

Python API: `load(path) -> Graph` (ONNX), `from_torch(module, example_inputs) -> Graph`,
`load_torch("file.py:Class", weights, input_type) -> Graph`; a Graph lowers with `to_onnx()` and
`to_torch()` and reports its cost with `macs()` and `params()`. `register_pass` and `register_transform`
add passes, morphisms and mutations to the one registry (`stitchc passes` lists it).

Every name loads its layer on first use, so `import stitchc.ir` loads the IR and nothing else.
"""

import importlib

_EXPORTS = {
    "Graph": ("stitchc.ir", "Graph"),
    "load": ("stitchc.ir", "load_onnx"),
    "from_torch": ("stitchc.ir.torch_import", "from_torch"),
    "load_torch": ("stitchc.ir.torch_import", "load_torch"),
    "register_pass": ("stitchc.passes.base", "register_pass"),
    "register_transform": ("stitchc.passes.transform_base", "implementation"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stitchc' has no attribute '{name}'")
    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(module), attribute)
