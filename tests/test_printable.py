"""Text from files never reaches the terminal raw (issue 10, finding 14): `printable` escapes control characters,
and everything stitchc prints from a model or a spec goes through it."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from stitchc.cli import main
from stitchc.ir.printable import printable

CLEAR = "\x1b[2J\x1b[H"


@pytest.mark.parametrize(
    "text, lines, expected",
    [
        (CLEAR + "all checks passed", False, "\\x1b[2J\\x1b[Hall checks passed"),
        ("a\rb\nc\td", False, "a\\rb\\nc\td"),
        ("a\rb\nc", True, "a\\rb\nc"),
        ("\x9b31m\x7f\x00", False, "\\x9b31m\\x7f\\x00"),
        ("conv1 × 2 é ✓", False, "conv1 × 2 é ✓"),
    ],
)
def test_printable_escapes_control_characters(text, lines, expected):
    assert printable(text, lines=lines) == expected


def hostile_model(path, node_name: str, reads: str = "x") -> None:
    node = helper.make_node("Gemm", [reads, "w"], ["y"], name=node_name)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.5] * 16)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_inspect_prints_node_names_escaped(tmp_path, capsys):
    path = str(tmp_path / "m.onnx")
    hostile_model(path, CLEAR + "all checks passed")
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "  \\x1b[2J\\x1b[Hall checks passed Gemm" in out  # its row of the cost table, as the file spells it


def test_a_forged_line_in_an_error_stays_on_one_line(tmp_path, capsys):
    path = str(tmp_path / "m.onnx")
    hostile_model(path, "r\nstitchc: all checks passed" + CLEAR, reads="nowhere")
    assert main(["inspect", path]) == 2
    assert capsys.readouterr().err == (
        f"stitchc: error: {path}: node r\\nstitchc: all checks passed\\x1b[2J\\x1b[H reads undefined value 'nowhere'\n"
    )


def test_spec_diagnostics_print_escaped(tmp_path, capsys):
    spec = tmp_path / "s.stitch"
    spec.write_text('stitch 1\nmodel a = onnx("\x1b[2Jx.onnx")\n')
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert err.splitlines()[:2] == [
        f"{spec}:2:16: error: model file '\\x1b[2Jx.onnx' not found",
        '    model a = onnx("\\x1b[2Jx.onnx")',
    ]
