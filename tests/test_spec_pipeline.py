"""A spec's pipeline: a Python pass registered with the decorator and DSL rules run as one PassManager."""

from __future__ import annotations

import numpy as np
import pytest

from stitchc.grammar.diagnostics import SpecError
from stitchc.grammar.pipelines import passes_from_spec
from stitchc.ir import Graph, TensorType
from stitchc.ir.runtime import run
from stitchc.passes.base import PassManager

PASSES_PY = '''
import stitchc
from stitchc.passes.base import PassResult


@stitchc.register_pass("tag_tanh")
def tag_tanh(graph):
    """Renames Tanh nodes (a visible, output-preserving change)."""
    changed = False
    for node in graph.nodes:
        if node.op == "Tanh" and not node.name.startswith("tagged_"):
            node.name, changed = "tagged_" + node.name, True
    return PassResult(graph, changed)
'''

SPEC = """stitch 1
use "passes.py"

rule relu_relu {
    match   { %a = Relu(%x) %b = Relu(%a) }
    rewrite { %b = %a }
}

pipeline cleanup = fixpoint([relu_relu, tag_tanh, fold_conv_bn, remove_identity, dce], max = 4)
"""


@pytest.fixture()
def spec(tmp_path):
    (tmp_path / "passes.py").write_text(PASSES_PY)
    (tmp_path / "cleanup.stitch").write_text(SPEC)
    return str(tmp_path / "cleanup.stitch")


def _graph() -> Graph:
    graph = Graph("g")
    kind = TensorType(np.dtype("float32"), ("N", 4))
    value = graph.add_input("x", kind)
    for op in ("Relu", "Relu", "Relu", "Identity", "Tanh"):
        value = graph.add_node(op, [value], [kind]).outputs[0]
    graph.outputs = [value]
    return graph


def test_python_pass_and_dsl_rule_in_one_pipeline(spec):
    manager = passes_from_spec(spec, debug=True)
    graph = _graph()
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    expected = run(graph, x)[0]
    result = manager(graph.copy())
    assert [n.op for n in result.graph.nodes] == ["Relu", "Tanh"]
    assert result.graph.nodes[-1].name.startswith("tagged_")
    np.testing.assert_array_equal(run(result.graph, x)[0], expected)
    assert str(manager.report) == (
        "stopped: fixpoint after 2 rounds; changes: relu_relu 1, tag_tanh 1, fold_conv_bn 0, remove_identity 1, dce 0"
    )


def test_a_pipeline_out_of_rounds_says_so(spec, tmp_path):
    (tmp_path / "once.stitch").write_text(SPEC.replace("max = 4", "max = 1"))
    manager = passes_from_spec(str(tmp_path / "once.stitch"))
    manager(_graph())
    assert (manager.report.stop, manager.report.rounds) == ("round limit", 1)
    single = PassManager(manager.passes)
    single(_graph())
    assert (single.report.stop, single.report.rounds, single.report.changes["relu_relu"]) == ("single run", 1, 1)


def test_missing_pipeline_is_a_spec_error(spec):
    with pytest.raises(SpecError, match="no pipeline 'other'"):
        passes_from_spec(spec, "other")


def test_convert_applies_a_spec_pipeline(spec, parent_paths, digits, tmp_path, capsys):
    import onnx

    from stitchc.cli import main

    out = str(tmp_path / "converted.onnx")
    assert main(["convert", parent_paths[1], "-o", out, "--passes", "dce", "--spec", spec]) == 0
    np.testing.assert_array_equal(
        run(onnx.load(out), digits.val.x)[0], run(onnx.load(parent_paths[1]), digits.val.x)[0]
    )
    assert main(["convert", parent_paths[1], "-o", out, "--spec", spec, "--pipeline", "other"]) == 2
    assert "no pipeline 'other'" in capsys.readouterr().err.splitlines()[0]
