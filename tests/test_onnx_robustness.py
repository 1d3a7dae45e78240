"""Mutated ONNX files that used to crash `inspect`/`convert` (issue 10, findings 9 and 11): each is now a clean
one-line error or a correct result, and a huge constant is left unfolded (and said) instead of being built."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from stitchc.cli import main
from stitchc.ir import load_onnx
from stitchc.ir.cost import CostError, graph_macs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from onnx_seeds import seeds  # noqa: E402


def saved(tmp_path, model: onnx.ModelProto, name: str = "m.onnx") -> str:
    path = str(tmp_path / name)
    onnx.save(model, path)
    return path


def inspect(capsys, path: str) -> tuple[int, str, str]:
    status = main(["inspect", path])
    out, err = capsys.readouterr()
    return status, out, err


def test_an_unknown_element_type_is_one_line(tmp_path, capsys):
    model = seeds()["matmul"]
    model.graph.initializer[0].data_type = 999
    path = saved(tmp_path, model)
    status, out, err = inspect(capsys, path)
    assert (status, out, err) == (2, "", f"stitchc: error: {path}: tensor 'w' has unknown element type 999\n")


def test_an_input_of_unknown_element_type_is_carried_opaquely(tmp_path, capsys):
    model = seeds()["matmul"]
    model.graph.input[0].type.tensor_type.elem_type = 999
    status, out, err = inspect(capsys, saved(tmp_path, model))
    assert status == 0 and err == ""
    assert "MACs: unknown (node matmul (MatMul): shape of x unknown)" in out


@pytest.mark.parametrize(
    "operand, dims, cause",
    [
        ("v", [4], "node gemm (Gemm): v has rank 1, Gemm needs 2"),
        ("v", [], "node gemm (Gemm): v has rank 0, Gemm needs 2"),
        ("w", [], "node matmul (MatMul): w has rank 0, MatMul needs 1"),
    ],
)
def test_contractions_of_low_rank_say_their_macs_are_unknown(tmp_path, capsys, operand, dims, cause):
    model = seeds()["matmul"]
    tensor = next(t for t in model.graph.initializer if t.name == operand)
    tensor.CopyFrom(helper.make_tensor(operand, TensorProto.FLOAT, dims, [0.5] * (dims[0] if dims else 1)))
    status, out, err = inspect(capsys, saved(tmp_path, model))
    assert status == 0 and err == "" and f"MACs: unknown ({cause})" in out


def test_a_gemm_missing_an_operand_says_its_macs_are_unknown(tmp_path, capsys):
    model = seeds()["matmul"]
    del model.graph.node[3].input[1:]
    status, out, err = inspect(capsys, saved(tmp_path, model))
    assert status == 0 and "MACs: unknown (node gemm (Gemm): shape of operand 1 unknown)" in out


def test_a_one_dimensional_matmul_contracts_its_only_dim(tmp_path):
    """numpy's rule: [N, 4] x [4] contracts 4 (one MAC per element of the output [N] times 4)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [1, 2, 3, 4])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mv")], "mv", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert graph_macs(load_onnx(saved(tmp_path, model))) == 4


def test_unknown_shapes_are_a_cost_error_not_a_crash(tmp_path):
    model = seeds()["matmul"]
    model.graph.input[0].type.tensor_type.ClearField("shape")
    with pytest.raises(CostError, match=r"^node matmul \(MatMul\): shape of x unknown$"):
        graph_macs(load_onnx(saved(tmp_path, model)))


def test_a_corrupt_attribute_is_one_line(tmp_path, capsys):
    model = seeds()["matmul"]
    model.graph.node[3].attribute[0].type = onnx.AttributeProto.UNDEFINED
    path = saved(tmp_path, model)
    assert inspect(capsys, path) == (
        2,
        "",
        f"stitchc: error: {path}: node gemm: attribute 'transB' is corrupt (its type 0 gives no value)\n",
    )


def huge_constant_model(elements: int = 10**9) -> onnx.ModelProto:
    """About 160 bytes: a ConstantOfShape of `elements` float32 zeros beside a Relu."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [elements])
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["big"], name="huge"),
        helper.make_node("Relu", ["x"], ["y"], name="relu"),
    ]
    outputs = [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
        helper.make_tensor_value_info("big", TensorProto.FLOAT, [elements]),
    ]
    graph = helper.make_graph(
        nodes, "huge", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])], outputs, [shape]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_a_huge_constant_is_left_unfolded_and_said(tmp_path, capsys):
    path = saved(tmp_path, huge_constant_model())
    assert os.path.getsize(path) < 200
    graph = load_onnx(path)
    assert [n.op for n in graph.nodes] == ["ConstantOfShape", "Relu"] and "big" not in graph.constants
    status, out, err = inspect(capsys, path)
    assert status == 0 and err == ""
    assert out.strip().splitlines()[-1] == (
        "left unfolded: node huge (ConstantOfShape): 1,000,000,000 elements, 3.73 GiB > fold budget 64 MiB"
    )


def test_a_constant_within_the_budget_is_still_folded(tmp_path):
    graph = load_onnx(saved(tmp_path, huge_constant_model(1000)))
    assert [n.op for n in graph.nodes] == ["Relu"] and graph.unfolded == []
    np.testing.assert_array_equal(graph.constants["big"].const, np.zeros(1000, np.float32))


def inspect_peak_megabytes(path: str) -> int:
    """Peak RSS of a child process running `stitchc inspect path`, which must succeed."""
    code = (
        "import resource, sys; from stitchc.cli import main; status = main(['inspect', sys.argv[1]]); "
        "print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    result = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    status, megabytes = result.stdout.split()[-2:]
    assert status == "0", result.stdout + result.stderr
    return int(megabytes)


def test_inspecting_a_huge_constant_stays_small(tmp_path):
    """The 1e9-element model took 4.0 GB to inspect; now far below 1 GB."""
    assert inspect_peak_megabytes(saved(tmp_path, huge_constant_model())) < 1024


def test_shape_probing_skips_a_graph_with_huge_values(tmp_path):
    """Expand of the input to [N, 3e8] beside a Reshape whose dims inference loses (Div of a Shape): probing would
    bind them by running the whole graph at batch 1 and 2 (2.4 GB). It is skipped; the Reshape keeps unknown dims."""
    one = helper.make_tensor("one", TensorProto.INT64, [2], [1, 1])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 3 * 10**8])
    nodes = [
        helper.make_node("Expand", ["x", "shape"], ["y"], name="grow"),
        helper.make_node("Shape", ["x"], ["s"], name="shape_of_x"),
        helper.make_node("Div", ["s", "one"], ["d"], name="div"),
        helper.make_node("Reshape", ["x", "d"], ["z"], name="reshape"),
    ]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in ("y", "z")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])]
    graph = helper.make_graph(nodes, "probe", inputs, outputs, [one, shape])
    path = saved(tmp_path, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [str(v.type) for v in load_onnx(path).outputs] == ["float32[N, 300000000]", "float32[unk__0, unk__1]"]
    assert inspect_peak_megabytes(path) < 1024


def test_text_that_is_not_utf8_is_one_line(tmp_path, capsys):
    """proto2 parses a name of invalid UTF-8 as bytes (a byte flip found it: TypeError in module_path)."""
    data = seeds()["matmul"].SerializeToString()
    assert data.count(b"\x1a\x06matmul") == 1  # the node's name field (tag 3, 6 bytes)
    path = tmp_path / "m.onnx"
    path.write_bytes(data.replace(b"\x1a\x06matmul", b"\x1a\x06matm\xffl"))
    assert inspect(capsys, str(path)) == (
        2,
        "",
        f"stitchc: error: {path}: corrupt: the text of graph.node[0].name is not valid UTF-8\n",
    )


def test_a_declared_type_cannot_lie_a_huge_constant_into_folding(tmp_path):
    """The file declares 'big' as float[1]: folding sizes results by inferring them afresh, so it still refuses."""
    model = huge_constant_model()
    model.graph.output[1].CopyFrom(helper.make_tensor_value_info("big", TensorProto.FLOAT, [1]))
    graph = load_onnx(saved(tmp_path, model))
    assert [n.op for n in graph.nodes] == ["ConstantOfShape", "Relu"]
    assert graph.unfolded == ["node huge (ConstantOfShape): 1,000,000,000 elements, 3.73 GiB > fold budget 64 MiB"]


def test_folding_stops_at_the_total_budget(tmp_path, monkeypatch):
    """Each result within the per-result budget, but not both within the total: the second stays a node."""
    import stitchc.ir.fold as fold

    monkeypatch.setattr(fold, "FOLD_TOTAL", 6000)
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [1000])
    nodes = [helper.make_node("ConstantOfShape", ["shape"], [name], name=f"make_{name}") for name in ("a", "b")]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1000]) for name in ("a", "b")]
    graph = helper.make_graph(nodes, "two", [], outputs, [shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    loaded = load_onnx(saved(tmp_path, model))
    assert [n.name for n in loaded.nodes] == ["make_b"] and "a" in loaded.constants
    assert loaded.unfolded == ["node make_b (ConstantOfShape): folded results would exceed 5.86 KiB in all"]


def test_a_range_sized_by_a_computed_limit_is_folded_in_a_second_round(tmp_path):
    """Shape inference cannot size Range(0, ReduceSum(c), 1) before the sum exists; the next round can."""
    counts = helper.make_tensor("counts", TensorProto.INT64, [2], [3, 4])
    nodes = [
        helper.make_node("ReduceSum", ["counts"], ["limit"], name="total", keepdims=0),
        helper.make_node("Range", ["zero", "limit", "one"], ["r"], name="steps"),
    ]
    scalars = [helper.make_tensor(n, TensorProto.INT64, [], [v]) for n, v in (("zero", 0), ("one", 1))]
    output = helper.make_tensor_value_info("r", TensorProto.INT64, ["n"])
    graph = helper.make_graph(nodes, "rounds", [], [output], [counts, *scalars])
    loaded = load_onnx(saved(tmp_path, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])))
    assert loaded.nodes == [] and loaded.unfolded == []
    assert list(loaded.outputs[0].const) == list(range(7))
