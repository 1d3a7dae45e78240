"""Candidates are scored with every Conv + Add pair fused beforehand: same function, same MACs, and ONNX
Runtime is left no choice of which Conv absorbs an Add."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from stitchc.evolve.conv_sum_fusion import scored_form
from stitchc.ir import load_onnx
from stitchc.ir.runtime import run


def _residual(tmp_path, shared: bool, dtype=np.float32):
    """x -> a = Conv(x), b = Conv(x) -> Add(a, b); with `shared`, a is also a graph output (two uses)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal(s).astype(dtype), n)
        for n, s in (("wa", (8, 4, 3, 3)), ("ba", (8,)), ("wb", (8, 4, 1, 1)))
    ]
    nodes = [
        helper.make_node("Conv", ["x", "wa", "ba"], ["a"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["x", "wb"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), ["N", 8, 6, 6])]
    if shared:
        outputs.append(
            helper.make_tensor_value_info("a", helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), ["N", 8, 6, 6])
        )
    graph = helper.make_graph(
        nodes,
        "residual",
        [helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), ["N", 4, 6, 6])],
        outputs,
        initializer=inits,
    )
    path = tmp_path / f"residual{int(shared)}{np.dtype(dtype).name}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return load_onnx(str(path))


def test_an_add_of_two_convs_becomes_one_fused_conv_with_the_same_outputs_and_macs(tmp_path):
    graph = _residual(tmp_path, shared=False)
    form = scored_form(graph)
    assert [(n.domain, n.op) for n in form.nodes] == [("", "Conv"), ("com.microsoft", "FusedConv")]
    assert form.nodes[1].inputs[3] is form.nodes[0].outputs[0]  # the first Conv absorbs the Add
    assert form.macs() == graph.macs() and len(graph.nodes) == 3  # the original is left as it was
    x = np.random.default_rng(1).standard_normal((5, 4, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(run(form, x)[0], run(graph, x)[0], rtol=1e-5, atol=1e-5)


def test_a_conv_read_elsewhere_is_not_the_one_fused(tmp_path):
    form = scored_form(_residual(tmp_path, shared=True))
    fused = [n for n in form.nodes if n.op == "FusedConv"]
    assert len(fused) == 1 and fused[0].inputs[1].name == "wb"  # the second Conv, since `a` has two uses
    assert form.opset_imports["com.microsoft"] == 1


def test_only_float32_is_fused_since_fused_conv_runs_no_other_type(tmp_path):
    graph = _residual(tmp_path, shared=False, dtype=np.float64)
    assert [n.op for n in scored_form(graph).nodes] == ["Conv", "Conv", "Add"]
