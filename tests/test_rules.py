"""The rule engine: fold_conv_bn from std.stitch on a ResNet, and matcher semantics on small graphs."""

from __future__ import annotations

import importlib.util
import io
import os
import warnings

import numpy as np
import onnx
import pytest
import torch
from stitchc.grammar.checker import Checker
from stitchc.grammar.parser import parse
from stitchc.grammar.std_library import get_pass
from stitchc.ir import Graph, TensorType, from_onnx
from stitchc.ir.runtime import run
from stitchc.passes.base import PassManager
from stitchc.passes.rules.rule_pass import RulePass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _zoo():
    spec = importlib.util.spec_from_file_location("zoo", os.path.join(ROOT, "bench", "zoo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    net = _zoo().ResNet18(classes=10)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.3, 0.3)
    net.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated but keeps BatchNormalization nodes
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(net, buffer)
    return net, from_onnx(onnx.load_from_string(buffer.getvalue()), "resnet")


def _export(net, buffer) -> None:
    torch.onnx.export(
        net,
        torch.randn(1, 3, 32, 32),
        buffer,
        dynamo=False,
        do_constant_folding=False,
        training=torch.onnx.TrainingMode.PRESERVE,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "N"}},
    )


def test_fold_conv_bn_folds_every_pair_of_a_resnet(resnet):
    net, graph = resnet
    pairs = sum(1 for n in graph.nodes if n.op == "BatchNormalization" and n.inputs[0].producer.op == "Conv")
    assert pairs == 20  # the export kept every BatchNormalization
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        reference = net(torch.from_numpy(x)).numpy()
    result = PassManager([get_pass("fold_conv_bn"), get_pass("dce")], debug=True)(graph.copy())
    assert result.modified and not result.failures
    assert not any(n.op == "BatchNormalization" for n in result.graph.nodes)
    folded = run(result.graph, x)[0]
    assert np.max(np.abs(folded - reference)) <= 1e-5 * max(1.0, np.max(np.abs(reference)))
    assert np.max(np.abs(folded - run(graph, x)[0])) <= 1e-5 * max(1.0, np.max(np.abs(reference)))


def _rule(text: str) -> RulePass:
    program = Checker(parse("stitch 1\n" + text, "rule.stitch"), library=True).check()
    return RulePass(next(iter(program.rules.values())))


def _chain(*ops: str, branch_from: int | None = None) -> Graph:
    """x -> op1 -> op2 ...; with branch_from=i, the output of op i is also a graph output (used outside)."""
    graph = Graph("chain")
    value = graph.add_input("x", TensorType(np.dtype("float32"), ("N", 4)))
    kind = TensorType(np.dtype("float32"), ("N", 4))
    outputs = []
    for index, op in enumerate(ops):
        value = graph.add_node(op, [value], [kind]).outputs[0]
        if index == branch_from:
            outputs.append(graph.add_node("Neg", [value], [kind]).outputs[0])
    graph.outputs = [value, *outputs]
    return graph


def test_rule_with_alternatives_and_forward():
    rule = _rule("rule relu_twice { match { %a = Relu|LeakyRelu(%x) {...} %b = Relu(%a) } rewrite { %b = %a } }")
    graph = _chain("Sigmoid", "Relu", "Relu", "Tanh")
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    expected = run(graph, x)[0]
    result = rule(graph)
    assert result.modified and [n.op for n in result.graph.nodes] == ["Sigmoid", "Relu", "Tanh"]
    np.testing.assert_array_equal(run(result.graph, x)[0], expected)


def test_op_class_matches_members():
    rule = _rule("rule drop_act { match { %y = activation(%x) } rewrite { %y = Identity(%x) } }")
    result = rule(_chain("Relu", "Tanh", "Neg"))
    assert [n.op for n in result.graph.nodes] == ["Identity", "Identity", "Neg"]


def test_inner_value_used_outside_is_refused_with_reason():
    rule = _rule("rule relu_twice { match { %a = Relu(%x) %b = Relu(%a) } rewrite { %b = %a } }")
    result = rule(_chain("Relu", "Relu", branch_from=0))
    assert not result.modified
    assert any("used by node" in reason and "outside the match" in reason for reason in result.failures)


def test_failed_guard_records_which_guard_and_which_value():
    rule = _rule("rule r {\n match { %y = Relu(%x) }\n where { is_const(%x); }\n rewrite { %y = Identity(%x) } }")
    result = rule(_chain("Relu"))
    assert not result.modified
    assert result.failures == ("r at relu: where `is_const(%x)` is false: %x is not a constant",)


def test_ensures_undoes_a_wrong_rewrite():
    rule = _rule("rule wrong { match { %y = Relu(%x) } rewrite { %y = Neg(%x) } ensures allclose(tol = 1e-5); }")
    graph = _chain("Relu", "Tanh")
    result = rule(graph)
    assert not result.modified and "ensures allclose failed" in result.failures[-1]
    assert [n.op for n in result.graph.nodes] == ["Relu", "Tanh"]


def test_compute_builds_new_parameters_and_attribute_literals():
    rule = _rule("""rule scale {
        match   { %y = Mul(%x, %s) }
        where   { is_const(%s); rank(%x) == 2; }
        compute { half = %s / 2; }
        rewrite { %t = Mul(%x, half) %y = Add(%t, %t) }
        ensures allclose(tol = 1e-6);
    }""")
    graph = Graph("g")
    x = graph.add_input("x", TensorType(np.dtype("float32"), ("N", 4)))
    s = graph.add_constant("s", np.arange(4, dtype=np.float32))
    graph.outputs = graph.add_node("Mul", [x, s], [TensorType(np.dtype("float32"), ("N", 4))]).outputs
    name = graph.outputs[0].name
    result = rule(graph)
    assert result.modified and [n.op for n in result.graph.nodes] == ["Mul", "Add"]
    assert result.graph.outputs[0].name == name  # the graph output keeps its name
