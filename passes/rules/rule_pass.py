"""A Rule as a pass: match every anchor, check guards, compute, rewrite, then check `ensures`.

Rule: the rule's own `match`/`rewrite`. Guarantee: as the rule states; with `ensures allclose(tol)` the
rewritten graph is run against the original with ONNX Runtime on random inputs and the whole pass is
undone (recorded as a failure) when max |y' - y| > tol * max(1, max |y|). Every refused match is
recorded in PassResult.failures as "RULE at NODE: reason"; `explain` lists them without rewriting.
"""

from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Node

from ..base import PassBase, PassResult
from ..registry import Entry, register
from .compute import Env, Refused, evaluate
from .guard import failed_guard
from .matcher import Match, Matcher
from .rewrite import rewrite
from .rule import Rule
from .validate import checked


class RulePass(PassBase):
    """Raises RuleError (listing every problem) when the rule is invalid."""

    def __init__(self, rule: Rule, max_rewrites: int = 100_000):
        self.analysis = checked(rule)
        self.rule, self.name = rule, rule.name
        self.matcher = Matcher(rule, self.analysis)
        self.max_rewrites = max_rewrites

    def call(self, graph: Graph) -> PassResult:
        original = graph.copy() if self.rule.tol is not None else None
        failures, count, removed = [], 0, set()
        for node in [n for n in graph.nodes if self.matcher.anchors(n)]:  # one scan: the nodes of the root's ops
            if count >= self.max_rewrites or id(node) in removed:
                continue
            prepared = self._prepare(graph, node)
            if isinstance(prepared, str):
                failures.append(f"{self.name} at {node.name}: {prepared}")
            else:
                removed.update(id(n) for n in rewrite(graph, self.rule, self.analysis, *prepared))
                count += 1
        if count and original is not None:
            error = _max_error(original, graph)
            if error > self.rule.tol:
                return PassResult(
                    original, False, (*failures, f"{self.name}: ensures allclose failed (error {error:.3g})")
                )
        return PassResult(graph, count > 0, tuple(failures))

    def explain(self, graph: Graph) -> dict[str, str | None]:
        """For every node the rule anchors at: None where it would rewrite, else the reason it does not.

        The graph is not changed; each node is judged on the graph as it is (no earlier rewrite applied)."""
        reasons = {}
        for node in graph.nodes:
            if self.matcher.anchors(node):
                prepared = self._prepare(graph, node)
                reasons[node.name] = prepared if isinstance(prepared, str) else None
        return reasons

    def _prepare(self, graph: Graph, node: Node) -> tuple[Match, Env] | str:
        """The first match at `node` whose guards hold, with its compute results; else the first reason
        an attempt was refused."""
        failures: list[str] = []
        for found in self.matcher.matches(node, graph, failures):
            env = Env(found.values, found.attrs)
            try:
                reason = next(filter(None, (failed_guard(guard, env) for guard in self.rule.where)), None)
                if reason is None:
                    for assign in self.rule.compute:
                        env.results[assign.name] = evaluate(assign.value, env)
                    return found, env
            except Refused as refused:
                reason = str(refused)
            failures.append(reason)
        return failures[0]


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


def register_rule(rule: Rule) -> None:
    """Registers `rule` as a pass under its name; raises RuleError now when it is invalid. Its guarantee is
    approximate when `ensures allclose` checks every rewrite, else none."""
    checked(rule)
    guarantee = "approximate" if rule.tol is not None else "none"
    register(Entry(rule.name, "pass", guarantee, f"rule {rule.name}", lambda: RulePass(rule)))
