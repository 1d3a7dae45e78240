"""Small valid ONNX models the ONNX fuzzer mutates: one per place a tensor can hide.

Each seed imports, inspects and converts cleanly (tests/fuzz/test_onnx_fuzz.py checks it): a conv net (the
example parent), a model-local function whose body holds a Constant, an If whose branches hold Constants, a
Loop body, a sparse initializer, and MatMul/Gemm/ConstantOfShape arithmetic.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPSETS = [helper.make_opsetid("", 17)]


def seeds() -> dict[str, onnx.ModelProto]:
    """name -> a fresh copy of every seed model."""
    return {
        "conv": onnx.load(os.path.join(ROOT, "specs", "models", "digits_small.onnx")),
        "function": _function_model(),
        "if": _if_model(),
        "loop": _loop_model(),
        "sparse": _sparse_model(),
        "matmul": _matmul_model(),
    }


def _model(nodes, inputs, outputs, initializers=(), functions=(), sparse=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "seed", inputs, outputs, list(initializers), sparse_initializer=list(sparse))
    opsets = OPSETS + ([helper.make_opsetid("local", 1)] if functions else [])
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    model.ir_version = 8
    return model


def _x(width: int = 4) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", width])


def _y(width: int = 4) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", width])


def _weight(name: str, shape: tuple[int, ...], seed: int = 0) -> TensorProto:
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def _function_model() -> onnx.ModelProto:
    scale = helper.make_node("Constant", [], ["s"], value=_weight("scale", (4,), 1))
    body = [scale, helper.make_node("Mul", ["a", "s"], ["b"])]
    function = helper.make_function("local", "Scale", ["a"], ["b"], body, OPSETS)
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], name="gemm"),
        helper.make_node("Scale", ["h"], ["y"], domain="local", name="scale"),
    ]
    return _model(nodes, [_x()], [_y()], [_weight("w", (4, 4))], [function])


def _branch(name: str, seed: int) -> onnx.GraphProto:
    constant = helper.make_node("Constant", [], [f"{name}_c"], value=_weight(f"{name}_t", (4,), seed))
    add = helper.make_node("Add", ["x", f"{name}_c"], [f"{name}_out"])
    return helper.make_graph([constant, add], name, [], [helper.make_tensor_value_info(f"{name}_out", 1, ["N", 4])])


def _if_model() -> onnx.ModelProto:
    flag = numpy_helper.from_array(np.array(True), "flag")
    node = helper.make_node("If", ["flag"], ["y"], then_branch=_branch("then", 2), else_branch=_branch("else", 3))
    return _model([node], [_x()], [_y()], [flag])


def _loop_model() -> onnx.ModelProto:
    step = helper.make_node("Constant", [], ["step"], value=_weight("step_t", (4,), 4))
    body = helper.make_graph(
        [
            step,
            helper.make_node("Add", ["acc", "step"], ["acc_out"]),
            helper.make_node("Identity", ["cond"], ["cond_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc", TensorProto.FLOAT, ["N", 4]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, ["N", 4]),
        ],
    )
    trips = numpy_helper.from_array(np.array(2, dtype=np.int64), "trips")
    node = helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)
    return _model([node], [_x()], [_y()], [trips])


def _sparse_model() -> onnx.ModelProto:
    values = numpy_helper.from_array(np.array([1.5, -2.0], dtype=np.float32), "bias")
    indices = numpy_helper.from_array(np.array([1, 3], dtype=np.int64), "bias_indices")
    sparse = helper.make_sparse_tensor(values, indices, [4])
    return _model([helper.make_node("Add", ["x", "bias"], ["y"], name="add")], [_x()], [_y()], sparse=[sparse])


def _matmul_model() -> onnx.ModelProto:
    shape = numpy_helper.from_array(np.array([4], dtype=np.int64), "shape")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="matmul"),
        helper.make_node("ConstantOfShape", ["shape"], ["ones"], name="ones", value=_weight("one", (1,), 5)),
        helper.make_node("Add", ["h", "ones"], ["g"], name="add"),
        helper.make_node("Gemm", ["g", "v"], ["y"], name="gemm", transB=1),
    ]
    return _model(nodes, [_x()], [_y()], [_weight("w", (4, 4), 6), _weight("v", (4, 4), 7), shape])
