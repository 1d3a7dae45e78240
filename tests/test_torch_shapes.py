"""Shape arithmetic in Python (ir/torch_shapes.py) computes what ONNX Runtime computes, op by op."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from stitchc.ir import from_onnx
from stitchc.ir.runtime import run
from stitchc.ir.torch_shapes import STATIC_OPS

I64 = np.int64

# (op, inputs, attributes): integer and boolean values of rank 0 and 1, as shape chains produce them
CASES = [
    ("Gather", [np.array([5, 3, 8], I64), np.array(-1, I64)], {}),
    ("Gather", [np.array([5, 3, 8], I64), np.array([2, 0], I64)], {}),
    ("Unsqueeze", [np.array(7, I64), np.array([0], I64)], {}),
    ("Squeeze", [np.array([7], I64), np.array([0], I64)], {}),
    ("Concat", [np.array([1, 2], I64), np.array([-1], I64)], {"axis": 0}),
    ("Reshape", [np.array([4, 5, 6], I64), np.array([-1], I64)], {}),
    ("Reshape", [np.array([4], I64), np.array([], I64)], {}),
    ("Slice", [np.array([2, 3, 4, 5], I64), np.array([1], I64), np.array([2**63 - 1], I64)], {}),
    ("Slice", [np.array([2, 3, 4, 5], I64), np.array([-1], I64), np.array([0], I64), None, np.array([-2], I64)], {}),
    ("Cast", [np.array([0, 3], I64)], {"to": TensorProto.BOOL}),
    ("Cast", [np.array([True, False])], {"to": TensorProto.INT64}),
    ("Add", [np.array([2, 3], I64), np.array(10, I64)], {}),
    ("Sub", [np.array(10, I64), np.array([2, 3], I64)], {}),
    ("Mul", [np.array([2, 3], I64), np.array([-1], I64)], {}),
    ("Div", [np.array([7, -7, 7, -7], I64), np.array([2, 2, -2, -2], I64)], {}),
    ("Equal", [np.array([3, -1, 4], I64), np.array(-1, I64)], {}),
    ("Max", [np.array([3, -1, 4], I64), np.array([1, 1, 9], I64), np.array(2, I64)], {}),
    ("Min", [np.array([3, -1, 4], I64), np.array(0, I64)], {}),
    ("Where", [np.array([True, False, True]), np.array([1, 1, 1], I64), np.array([5, 6, 7], I64)], {}),
    ("Where", [np.array(False), np.array(1, I64), np.array(5, I64)], {}),
    ("ConstantOfShape", [np.array([3], I64)], {"value": onnx.numpy_helper.from_array(np.array([1], I64))}),
]


def _model(op: str, inputs: list, attributes: dict, output: onnx.ValueInfoProto) -> onnx.ModelProto:
    names = [f"in{i}" if x is not None else "" for i, x in enumerate(inputs)]
    initializers = [onnx.numpy_helper.from_array(x, n) for n, x in zip(names, inputs) if x is not None]
    node = helper.make_node(op, names, ["out"], **attributes)
    graph = helper.make_graph([node], "case", [], [output], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("op,inputs,attributes", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_static_op_matches_onnx_runtime(op, inputs, attributes):
    dtype = TensorProto.BOOL if op == "Equal" or attributes.get("to") == TensorProto.BOOL else TensorProto.INT64
    expected = run(_model(op, inputs, attributes, helper.make_tensor_value_info("out", dtype, None)), {})[0]
    typed = _model(op, inputs, attributes, helper.make_tensor_value_info("out", dtype, list(expected.shape)))
    module = from_onnx(typed, "case", fold=False).to_torch()
    assert STATIC_OPS[op] in {n.target for n in module.graph.nodes}  # computed in Python, not with tensors
    result = module().numpy()
    assert result.dtype == expected.dtype and result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)
