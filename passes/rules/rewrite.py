"""The rewriter: builds the `rewrite` statements for one match and redirects the replaced values.

New parameters come from compute results; `...` copies the attributes of the matched node named by the
checker; a redefined match value (`%z = Conv(...)`, `%z = %x`) has all its uses, graph outputs included,
moved to the new value, which keeps the old name when it is a graph output. Matched nodes nothing reads any
more are then removed, and so are matched constants that nothing reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stitchc.grammar import ast
from stitchc.grammar.program import RuleSpec
from stitchc.ir import Graph, Provenance, Value

from .compute import Env, evaluate
from .pattern import Match


def rewrite(graph: Graph, rule: RuleSpec, found: Match, env: Env) -> None:
    scope: dict[str, Value | None] = dict(found.values)
    replaced: dict[str, Value] = {}
    dtype = _float_dtype(found)
    anchor = found.nodes[rule.root]
    for index, stmt in enumerate(rule.decl.rewrite):
        if isinstance(stmt, ast.Forward):
            new = [scope[stmt.source.name]]
        else:
            new = _build(graph, rule, stmt, index, found, env, scope, dtype, anchor.provenance).outputs
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
    _remove(graph, found)
    for value, name in renames:
        value.name = name  # a graph output keeps its name
    graph.toposort()


def _build(graph, rule, stmt: ast.OpStatement, index, found, env, scope, dtype, provenance: Provenance | None):
    inputs = []
    for operand in stmt.operands:
        if operand.is_value:
            inputs.append(scope.get(operand.name))
        else:
            inputs.append(graph.add_constant(f"{rule.name}_{operand.name}", _param(env.results[operand.name], dtype)))
    while inputs and inputs[-1] is None:
        inputs.pop()
    attributes: dict[str, Any] = {}
    if stmt.rest:
        attributes.update(found.nodes[rule.rest_sources[index]].attributes)
    for item in stmt.attrs:
        attributes[item.name] = _attribute(evaluate(item.value, env))
    types = [found.values[v.name].type if found.values.get(v.name) is not None else None for v in stmt.outputs]
    return graph.add_node(
        stmt.ops[0],
        inputs,
        types,
        name=f"{rule.name}_{stmt.ops[0].lower()}",
        attributes=attributes,
        provenance=provenance,
    )


def _remove(graph: Graph, found: Match) -> None:
    order = {id(n): i for i, n in enumerate(graph.nodes)}
    for node in sorted(found.nodes.values(), key=lambda n: -order[id(n)]):
        if not any(v.uses or v in graph.outputs for v in node.outputs):  # a forward may keep a matched node
            graph.remove_node(node)
    for value in found.values.values():
        if value is not None and value.is_const and not value.uses and value not in graph.outputs:
            graph.constants.pop(value.name, None)


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
