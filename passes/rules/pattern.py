"""The pattern matcher: anchors at a node matching the pattern root and walks its inputs.

A pattern statement `%y = Conv|ConvTranspose(%x, %w, %b?) {group: 1, ...}` matches a node of one of the ops
(op classes expand to their members) whose inputs match the operands in order (`%b?` may be absent),
whose attributes equal the literals or bind the `$names` (schema defaults stand in for absent attributes),
and which has no other attributes unless the block has `...`. A `%v` defined by another statement must be
produced by a node that matches that statement. A match whose inner values are used outside it is refused.
Every refusal returns the reason instead of a Match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stitchc.grammar import ast
from stitchc.ir import Graph, Node, Value

from .compute import Env, Refused, evaluate
from .op_classes import attribute_default, expand


@dataclass
class Match:
    nodes: dict[int, Node] = field(default_factory=dict)  # match statement index -> node
    values: dict[str, Value | None] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


class _NoMatch(Exception):
    pass


class Pattern:
    def __init__(self, statements: tuple[ast.OpStatement, ...], root: int):
        self.statements, self.root = statements, root
        self.ops = [expand(s.ops) for s in statements]
        self.definers = {v.name: (i, k) for i, s in enumerate(statements) for k, v in enumerate(s.outputs)}

    def anchors(self, node: Node) -> bool:
        return node.op in self.ops[self.root] and node.domain == ""

    def match(self, node: Node, graph: Graph) -> Match | str:
        """A Match rooted at `node`, or the reason it is refused."""
        found = Match()
        try:
            self._statement(self.root, node, found)
        except _NoMatch as reason:
            return str(reason)
        return _outside_use(found, self.root, graph) or found

    def _statement(self, index: int, node: Node, found: Match) -> None:
        if index in found.nodes:
            if found.nodes[index] is not node:
                raise _NoMatch(f"%{self.statements[index].outputs[0].name} would be two different nodes")
            return
        stmt = self.statements[index]
        if node.op not in self.ops[index] or node.domain != "":
            raise _NoMatch(f"node {node.name} is {node.op}, not {'|'.join(stmt.ops)}")
        if len(node.outputs) < len(stmt.outputs):
            raise _NoMatch(f"node {node.name} has {len(node.outputs)} outputs, the pattern needs {len(stmt.outputs)}")
        found.nodes[index] = node
        for var, value in zip(stmt.outputs, node.outputs):
            _bind(found.values, var.name, value)
        self._attributes(stmt, node, found)
        self._operands(stmt, node, found)

    def _operands(self, stmt: ast.OpStatement, node: Node, found: Match) -> None:
        actual = [v for v in node.inputs]
        while actual and actual[-1] is None:
            actual.pop()
        if len(actual) > len(stmt.operands):
            raise _NoMatch(f"node {node.name} has {len(actual)} inputs, the pattern {len(stmt.operands)}")
        for position, operand in enumerate(stmt.operands):
            value = actual[position] if position < len(actual) else None
            if value is None and not operand.optional:
                raise _NoMatch(f"node {node.name} lacks input {position} (%{operand.name})")
            if operand.name in self.definers and value is not None:
                index, output = self.definers[operand.name]
                producer = value.producer
                if producer is None or producer.outputs[output] is not value:
                    raise _NoMatch(
                        f"%{operand.name} of node {node.name} is not produced by {'|'.join(self.statements[index].ops)}"
                    )
                self._statement(index, producer, found)
            else:
                _bind(found.values, operand.name, value)

    def _attributes(self, stmt: ast.OpStatement, node: Node, found: Match) -> None:
        named = {item.name for item in stmt.attrs}
        if not stmt.rest and set(node.attributes) - named:
            extra = sorted(set(node.attributes) - named)[0]
            raise _NoMatch(f"node {node.name} has attribute '{extra}' (add `...` to allow others)")
        for item in stmt.attrs:
            actual = node.attr(item.name, attribute_default(node.op, item.name))
            if actual is None:
                raise _NoMatch(f"node {node.name} has no attribute '{item.name}'")
            if isinstance(item.value, ast.AttrVar):
                _bind(found.attrs, item.value.name, actual)
            elif not _equal(actual, _literal(item.value)):
                raise _NoMatch(f"attribute '{item.name}' of node {node.name} is {actual}")


def _literal(expr: ast.CExpr):
    try:
        return evaluate(expr, Env({}, {}))
    except Refused:
        return None


def _equal(a, b) -> bool:
    a = a.decode() if isinstance(a, bytes) else a
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return False


def _bind(table: dict, name: str, value) -> None:
    if name in table and table[name] is not value and not _equal(table[name], value):
        raise _NoMatch(f"%{name} / ${name} would bind two different things")
    table[name] = value


def _outside_use(found: Match, root: int, graph: Graph) -> str | None:
    inside = {id(n) for n in found.nodes.values()}
    for index, node in found.nodes.items():
        if index == root:
            continue
        for value in node.outputs:
            if value in graph.outputs:
                return f"inner value %{value.name} is a graph output"
            for user, _ in value.uses:
                if id(user) not in inside:
                    return f"inner value %{value.name} is also used by node {user.name} outside the match"
    return None
