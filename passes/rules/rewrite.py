"""The rewriter: builds the `rewrite` statements for one match and redirects the replaced values.

New parameters come from compute results; `...` copies the attributes of the matched node of the same op
and the inputs the match did not name (at their positions). A redefined match value (`%z = Conv(...)`,
`%z = %x`) has all its uses, graph outputs included, moved to the new value, which keeps the old name when
it is a graph output. Matched nodes nothing reads any more are then removed, and so are matched constants
that nothing reads. New nodes are inserted just before the match root, which every matched value precedes,
so the graph stays in topological order without a global sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stitchc.ir import Graph, Node, Value

from .compute import Env, evaluate
from .matcher import Match
from .rule import Rule
from .statements import Forward, OpStatement
from .validate import Analysis


def rewrite(graph: Graph, rule: Rule, analysis: Analysis, found: Match, env: Env) -> list[Node]:
    """Applies the rewrite of `rule` to one match (guards passed, `env` holding the compute results); returns
    the matched nodes it removed."""
    scope: dict[str, Value | None] = dict(found.values)
    replaced: dict[str, Value] = {}
    build = _Builder(graph, rule, analysis, found, env)
    for index, stmt in enumerate(rule.rewrite):
        if isinstance(stmt, Forward):
            new = [scope[stmt.source.name]]
        else:
            new = build(stmt, index, scope).outputs
        for var, value in zip(stmt.outputs, new):
            if var.name in found.values:
                replaced[var.name] = value
            scope[var.name] = value
    renames = []
    for name, value in replaced.items():
        old = found.values[name]
        if old in graph.outputs and value.producer is not None and value.producer not in found.nodes.values():
            renames.append((value, old.name))
        graph.replace_all_uses(old, value)
    removed = _remove(graph, found)
    for value, name in renames:
        value.name = name  # a graph output keeps its name
    return removed


class _Builder:
    """Adds the nodes of rewrite statements for one match."""

    def __init__(self, graph: Graph, rule: Rule, analysis: Analysis, found: Match, env: Env):
        self.graph, self.rule, self.analysis, self.found, self.env = graph, rule, analysis, found, env
        self.dtype = _float_dtype(found)
        self.anchor = found.nodes[analysis.root]  # every matched value is defined before the root: new nodes go there
        self.provenance = self.anchor.provenance

    def __call__(self, stmt: OpStatement, index: int, scope: dict):
        inputs = [self._input(operand, scope) for operand in stmt.operands]
        attributes: dict[str, Any] = {}
        if stmt.rest:
            source = self.analysis.rest_sources[index]
            node = self.found.nodes[source]
            attributes.update(node.attributes)
            named = len(self.rule.match[source].operands)
            if len(node.inputs) > named:  # the inputs the match did not name, at their positions
                inputs = inputs + [None] * (named - len(inputs)) + list(node.inputs[named:])
        while inputs and inputs[-1] is None:
            inputs.pop()
        for item in stmt.attrs:
            attributes[item.name] = _attribute(evaluate(item.value, self.env))
        found = self.found.values
        types = [found[v.name].type if found.get(v.name) is not None else None for v in stmt.outputs]
        return self.graph.add_node(
            stmt.ops[0],
            inputs,
            types,
            name=f"{self.rule.name}_{stmt.ops[0].lower()}",
            attributes=attributes,
            before=self.anchor,
            provenance=self.provenance,
        )

    def _input(self, operand, scope: dict) -> Value | None:
        if operand.is_value:
            return scope.get(operand.name)
        array = _param(self.env.results[operand.name], self.dtype)
        return self.graph.add_constant(f"{self.rule.name}_{operand.name}", array)


def _remove(graph: Graph, found: Match) -> list[Node]:
    """Removes the matched nodes that only other removed nodes read (a forward may keep one), then the matched
    constants nothing reads; returns the removed nodes."""
    doomed: dict[int, object] = {}
    changed = True
    while changed:  # a few rounds over a handful of matched nodes
        fresh = [n for n in found.nodes.values() if id(n) not in doomed and _unread(graph, n, doomed)]
        doomed.update((id(n), n) for n in fresh)
        changed = bool(fresh)
    graph.remove_nodes(doomed.values())
    for value in {id(v): v for v in found.values.values() if v is not None and v.is_const}.values():
        if not value.uses and value not in graph.outputs and value.name in graph.constants:
            graph.remove_constant(value)
    return list(doomed.values())


def _unread(graph: Graph, node, doomed: dict) -> bool:
    return not any(v in graph.outputs or any(id(u) not in doomed for u, _ in v.uses) for v in node.outputs)


def _param(array, dtype) -> np.ndarray:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating) and dtype is not None:
        array = array.astype(dtype)
    return array


def _attribute(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _float_dtype(found: Match):
    for value in found.values.values():
        if value is not None and value.type is not None and np.issubdtype(value.type.dtype, np.floating):
            return value.type.dtype
    return None
