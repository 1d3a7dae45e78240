"""Layers import only downward (ir < passes < stitch < grammar < evolve < stitchc), function-level imports included."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = ["ir", "passes", "stitch", "grammar", "evolve", "stitchc"]
RANK = {name: rank for rank, name in enumerate(LAYERS)}


def _imported_layers(path: pathlib.Path, layer: str):
    """(line, imported module, its layer) for every import of a stitchc module in the file, relative ones resolved."""
    package = [layer] + list(path.relative_to(ROOT / layer).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            modules = (
                [".".join(["stitchc", *base, node.module or ""]).rstrip(".")] if node.level else [node.module or ""]
            )
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "stitchc":
                yield node.lineno, module, parts[1] if len(parts) > 1 and parts[1] in RANK else "stitchc"


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_later_one(layer):
    upward = [
        f"{path.relative_to(ROOT)}:{line}: {layer} imports {module}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, module, target in _imported_layers(path, layer)
        if RANK[target] > RANK[layer]
    ]
    assert upward == []


def test_the_check_sees_relative_and_function_level_imports():
    source = ROOT / "passes" / "dce.py"
    found = {(module, target) for _, module, target in _imported_layers(source, "passes")}
    assert ("stitchc.passes.base", "passes") in found  # `from .base import ...` resolved
    assert ("stitchc.ir.subgraphs", "ir") in found


def test_importing_the_ir_loads_no_other_layer():
    code = "import sys, stitchc.ir; print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('stitchc.')}))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "['ir']"
