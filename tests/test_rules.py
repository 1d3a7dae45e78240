"""The rule engine: fold_conv_bn from std.stitch on a ResNet, and matcher semantics on small graphs."""

from __future__ import annotations

import importlib.util
import io
import os
import re
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
from stitchc.passes.rules import Rule, RuleError, RulePass, fn, op, var

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
    for index, name in enumerate(ops):
        value = graph.add_node(name, [value], [kind]).outputs[0]
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


F32 = np.dtype("float32")


def _conv_graph(bias: bool = True, **attributes) -> Graph:
    """x[N, 2, 6, 6] -> Conv(3x3, 4 channels, optional bias, attributes) -> Relu."""
    rng = np.random.default_rng(2)
    graph = Graph("conv")
    x = graph.add_input("x", TensorType(F32, ("N", 2, 6, 6)))
    inputs = [x, graph.add_constant("w", rng.standard_normal((4, 2, 3, 3)).astype(F32))]
    if bias:
        inputs.append(graph.add_constant("b", rng.standard_normal(4).astype(F32)))
    attributes = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], **attributes}
    y = graph.add_node("Conv", inputs, [None], name="conv", attributes=attributes).outputs[0]
    graph.outputs = graph.add_node("Relu", [y], [None], name="relu").outputs
    return graph


X = np.random.default_rng(3).standard_normal((2, 2, 6, 6)).astype(F32)
RECOPY = "match {{ %y = Conv(%x, %w) }} where {{ is_const(%w); }} compute {{ w2 = %w * 1; }} rewrite {{ %y = {new} }}"


def test_unnamed_bias_and_attributes_are_matched_and_carried_by_the_copy():
    graph = _conv_graph(strides=[2, 2])
    expected = run(graph, X)[0]
    result = _rule("rule recopy { " + RECOPY.format(new="Conv(%x, w2) {...}") + " }")(graph.copy())
    assert result.modified and not result.failures
    conv = result.graph.nodes[0]
    assert conv.name.startswith("recopy") and len(conv.inputs) == 3 and conv.attr("strides") == [2, 2]
    np.testing.assert_allclose(run(result.graph, X)[0], expected, rtol=1e-6, atol=1e-6)


def test_strict_refuses_what_the_pattern_does_not_name():
    strict = "rule recopy { " + RECOPY.replace("match {", "match strict {").format(new="Conv(%x, w2) {...}") + " }"
    result = _rule(strict)(_conv_graph())
    assert result.failures == ("recopy at conv: node conv has 3 inputs, the pattern 2",)
    result = _rule(strict)(_conv_graph(bias=False))
    assert result.failures == ("recopy at conv: node conv has attribute 'kernel_shape' (add `...` to allow others)",)


def test_a_rewrite_that_would_drop_an_unnamed_input_or_attribute_is_refused():
    rule = _rule("rule nocopy { " + RECOPY.format(new="Conv(%x, w2) {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}") + " }")
    result = rule(_conv_graph())
    assert result.failures == (
        (
            "nocopy at conv: node conv has input 2 ('B') that the pattern does not name, and the rewrite would drop "
            "it (name it, or copy the node with `...`)"
        ),
    )
    result = rule(_conv_graph(bias=False, strides=[2, 2]))
    assert result.failures == (
        (
            "nocopy at conv: node conv has attribute 'kernel_shape' = [3, 3] that the pattern does not name, and "
            "the rewrite would drop it (bind it, or add `...` if it does not matter)"
        ),
    )
    # an attribute equal to its schema default is not lost: dropping it changes nothing
    named = "rule named { " + RECOPY.format(new="Conv(%x, w2) {pads: [1, 1, 1, 1]}") + " }"
    named = named.replace("Conv(%x, %w) }", "Conv(%x, %w) {kernel_shape: [3, 3], pads: [1, 1, 1, 1]} }", 1)
    graph = _conv_graph(bias=False, group=1)
    expected = run(graph, X)[0]
    result = _rule(named)(graph)
    assert result.modified and not result.failures
    np.testing.assert_allclose(run(result.graph, X)[0], expected, rtol=1e-6, atol=1e-6)


def test_rest_in_a_match_says_unnamed_attributes_do_not_matter():
    graph = Graph("g")
    kind = TensorType(F32, ("N", 4))
    graph.outputs = graph.add_node("LeakyRelu", [graph.add_input("x", kind)], [kind], attributes={"alpha": 0.2}).outputs
    refused = _rule("rule r { match { %y = LeakyRelu(%x) } rewrite { %y = Relu(%x) } }")(graph.copy())
    assert "attribute 'alpha' = 0.2 that the pattern does not name" in refused.failures[0]
    accepted = _rule("rule r { match { %y = LeakyRelu(%x) {...} } rewrite { %y = Relu(%x) } }")(graph.copy())
    assert accepted.modified and [n.op for n in accepted.graph.nodes] == ["Relu"]


def _mul_add_graph(mul_first: bool, add_first: bool) -> Graph:
    """Add(Mul(x, s), c) with the operands of each op in either order."""
    graph = Graph("g")
    kind = TensorType(F32, ("N", 4))
    x = graph.add_input("x", kind)
    s = graph.add_constant("s", np.array([1.0, 2.0, 4.0, 8.0], F32))
    c = graph.add_constant("c", np.array([1.0, -1.0, 0.5, 3.0], F32))
    y = graph.add_node("Mul", [x, s] if mul_first else [s, x], [kind], name="mul").outputs[0]
    graph.outputs = graph.add_node("Add", [y, c] if add_first else [c, y], [kind], name="add").outputs
    return graph


FOLD_MUL_ADD = """rule fold_mul_add {
    match   { %y = Mul(%x, %s)
              %z = Add(%y, %c) }
    where   { is_const(%s, %c); single_use(%y); rank(%s) <= 1; }
    compute { c2 = %c / %s; }
    rewrite { %t = Add(%x, c2)
              %z = Mul(%t, %s) }
    ensures allclose(tol = 1e-5);
}"""


@pytest.mark.parametrize("mul_first", [True, False])
@pytest.mark.parametrize("add_first", [True, False])
def test_commutative_operands_match_in_either_order(mul_first, add_first):
    graph = _mul_add_graph(mul_first, add_first)
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(F32)
    expected = run(graph, x)[0]
    result = _rule(FOLD_MUL_ADD)(graph.copy())
    assert result.modified and not result.failures
    assert [n.op for n in result.graph.nodes] == ["Add", "Mul"]
    np.testing.assert_allclose(run(result.graph, x)[0], expected, rtol=1e-6)


def test_non_commutative_operands_keep_their_order():
    rule = _rule("rule r { match { %y = Sub(%x, %s) } where { is_const(%s); } rewrite { %y = Identity(%x) } }")
    graph = Graph("g")
    kind = TensorType(F32, ("N", 4))
    x = graph.add_input("x", kind)
    s = graph.add_constant("s", np.zeros(4, F32))
    graph.outputs = graph.add_node("Sub", [s, x], [kind], name="sub").outputs
    assert rule(graph).failures == ("r at sub: where `is_const(%s)` is false: %s is not a constant",)


def test_guard_reason_names_the_operand_values():
    rule = _rule("rule r { match { %y = Mul(%x, %s) } where { is_const(%s) and rank(%s) == 2; } rewrite { %y = %x } }")
    graph = _mul_add_graph(True, True)
    assert rule.explain(graph) == {"mul": "where `is_const(%s) and rank(%s) == 2` is false: rank(%s) = 1"}


def test_explain_lists_every_anchor_without_rewriting():
    graph = _chain("Relu", "Relu", "Tanh", "Relu", "Relu", branch_from=3)
    rule = _rule("rule relu_twice { match { %a = Relu(%x) %b = Relu(%a) } rewrite { %b = %a } }")
    before = str(graph)
    assert rule.explain(graph) == {
        "relu": "%a of node relu is not produced by Relu",  # it reads the graph input
        "relu_1": None,
        "relu_4": "node tanh is Tanh, not Relu",
        "relu_7": "inner value %relu_4_5 is also used by node neg outside the match",
    }
    assert str(graph) == before


def _fenced(doc: str, language: str) -> list[str]:
    with open(os.path.join(ROOT, "docs", doc), encoding="utf-8") as handle:
        return re.findall(rf"```{language}\n(.*?)```", handle.read(), re.DOTALL)


def test_python_rule_example_runs_and_equals_the_compiled_rule():
    (example,) = _fenced("passes.md", "python")
    namespace: dict = {}
    exec(compile(example, "docs/passes.md", "exec"), namespace)  # noqa: S102 (our own doc; its asserts are the test)
    text = next(block for block in _fenced("language.md", "stitch") if "rule fold_mul_add" in block)
    compiled = Checker(parse(text, "doc.stitch"), library=True).check().rules["fold_mul_add"]
    assert compiled == namespace["fold_mul_add"]
    assert compiled.match[0].span is not None and namespace["fold_mul_add"].match[0].span is None


def test_python_built_invalid_rule_lists_every_problem():
    bad = Rule("bad", match=[op.Relu(var.x, out="y")], rewrite=[op.Neg(var.xs, out="y")], where=[fn.sqrt()])
    with pytest.raises(RuleError) as error:
        RulePass(bad)
    assert str(error.value) == (
        "invalid rule 'bad':\n  sqrt() takes 1 argument, got 0"
        "\n  unbound value '%xs' in rule 'bad' (did you mean '%x'?)"
    )
