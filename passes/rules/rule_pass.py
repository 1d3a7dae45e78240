"""A checked DSL rule as a pass: match every anchor, check guards, compute, rewrite, then check `ensures`.

Rule: the rule's own `match`/`rewrite`. Guarantee: as the rule states; with `ensures allclose(tol)` the
rewritten graph is run against the original with ONNX Runtime on random inputs and the whole pass is
undone (recorded as a failure) when max |y' - y| > tol * max(1, max |y|).
"""

from __future__ import annotations

import numpy as np

from stitchc.grammar.program import Program, RuleSpec
from stitchc.ir import Graph

from ..base import PassBase, PassResult
from ..registry import Entry, register
from .compute import Env, Refused, evaluate
from .pattern import Pattern
from .rewrite import rewrite


class RulePass(PassBase):
    def __init__(self, rule: RuleSpec, max_rewrites: int = 100_000):
        self.rule, self.name = rule, rule.name
        self.pattern = Pattern(rule.decl.match, rule.root)
        self.max_rewrites = max_rewrites

    def call(self, graph: Graph) -> PassResult:
        original = graph.copy() if self.rule.tol is not None else None
        failures, count = [], 0
        for node in list(graph.nodes):
            if count >= self.max_rewrites or not self.pattern.anchors(node) or node not in graph.nodes:
                continue
            reason = self._apply(graph, node)
            if reason is None:
                count += 1
            else:
                failures.append(f"{self.name} at {node.name}: {reason}")
        if count and original is not None:
            error = _max_error(original, graph)
            if error > self.rule.tol:
                return PassResult(
                    original, False, (*failures, f"{self.name}: ensures allclose failed (error {error:.3g})")
                )
        return PassResult(graph, count > 0, tuple(failures))

    def _apply(self, graph: Graph, node) -> str | None:
        found = self.pattern.match(node, graph)
        if isinstance(found, str):
            return found
        env = Env(found.values, found.attrs)
        try:
            for guard in self.rule.decl.where:
                if not evaluate(guard, env):
                    return f"guard at line {guard.span.line} is false"
            for assign in self.rule.decl.compute:
                env.results[assign.name] = evaluate(assign.value, env)
        except Refused as reason:
            return str(reason)
        rewrite(graph, self.rule, found, env)
        return None


def _max_error(before: Graph, after: Graph, seed: int = 0) -> float:
    """max |y' - y| / max(1, max |y|) over the outputs, on one random batch of 2."""
    from stitchc.ir.runtime import run

    rng = np.random.default_rng(seed)
    feeds = {}
    for value in before.inputs:
        shape = [d if isinstance(d, int) else 2 for d in (value.type.shape or ())]
        feeds[value.name] = rng.standard_normal(shape).astype(value.type.dtype)
    expected, actual = run(before, feeds), run(after, feeds)
    return max(float(np.max(np.abs(a - e))) / max(1.0, float(np.max(np.abs(e)))) for e, a in zip(expected, actual))


def register_rules(program: Program) -> None:
    """Registers every rule of a checked program as a pass under its name."""
    for rule in program.rules.values():
        guarantee = "approximate" if rule.tol is not None else "none"  # `ensures allclose` checks every rewrite
        register(Entry(rule.name, "pass", guarantee, f"rule {rule.name}", lambda rule=rule: RulePass(rule)))
