"""The pattern matcher: anchors at a node matching the rule's root statement and walks its inputs.

A statement `%y = Conv|ConvTranspose(%x, %w, %b?) {group: 1, $g: ...}` matches a node of one of the ops
(op classes expand to their members, domain "") whose attributes equal the literals or bind the `$names`
(schema defaults stand in for absent attributes) and whose inputs match the operands in order (`%b?` may
be absent; a commutative op's operands match in any order, up to 4 of them). A `%v` defined by another
statement must be produced by a node that matches that statement. A match whose inner values are used
outside it is refused.

What a statement does not name:
- default: the node may carry other attributes, and other trailing inputs where its ONNX schema makes
  them optional (`Conv(%x, %w)` matches a Conv with a bias). The rewrite must not lose them: the node
  is kept (the rewrite reads its result) or copied (a rewrite statement of its op has `{...}`), or the
  statement says `...` (its other attributes do not matter); otherwise the match is refused, naming the
  input or attribute that would be dropped. Attributes equal to their schema default never count.
- `strict` rule: the node has exactly the named inputs (absent trailing ones aside) and no other
  attributes unless the statement has `...`.

Matching backtracks over commutative operand orders and yields every match (the rule pass takes the
first whose guards hold); each refused attempt records its reason, the written operand order first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from stitchc.ir import Graph, Node, Value

from .compute import Env, Refused, evaluate
from .expr import AttrVar
from .guard import show
from .op_classes import COMMUTATIVE, attribute_default, expand, optional_input
from .rule import Rule
from .statements import OpStatement
from .validate import Analysis

MAX_PERMUTED = 4  # operands of a commutative op tried in every order up to this many


@dataclass(frozen=True)
class Match:
    nodes: dict[int, Node] = field(default_factory=dict)  # match statement index -> node
    values: dict[str, Value | None] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


class Matcher:
    def __init__(self, rule: Rule, analysis: Analysis):
        self.rule, self.root = rule, analysis.root
        self.statements = rule.match
        self.ops = [expand(s.ops) for s in self.statements]
        self.definers = {v.name: (i, k) for i, s in enumerate(self.statements) for k, v in enumerate(s.outputs)}
        carried = set(analysis.rest_sources.values())
        self.droppable = [i not in analysis.kept and i not in carried for i in range(len(self.statements))]

    def anchors(self, node: Node) -> bool:
        return node.op in self.ops[self.root] and node.domain == ""

    def matches(self, node: Node, graph: Graph, failures: list[str]) -> Iterator[Match]:
        """Every Match rooted at `node` (several where commutative operands fit in more than one order);
        the reason of each refused attempt is appended to `failures`, in the order tried."""
        for found in self._statement(self.root, node, Match(), failures):
            reason = _outside_use(found, self.root, graph)
            if reason is None:
                yield found
            else:
                failures.append(reason)

    def _statement(self, index: int, node: Node, found: Match, failures: list[str]) -> Iterator[Match]:
        if index in found.nodes:
            if found.nodes[index] is node:
                yield found
            else:
                failures.append(f"%{self.statements[index].outputs[0].name} would be two different nodes")
            return
        stmt = self.statements[index]
        reason = self._node(index, stmt, node)
        if reason is None:
            found = replace(
                found, nodes={**found.nodes, index: node}, values=dict(found.values), attrs=dict(found.attrs)
            )
            for var, value in zip(stmt.outputs, node.outputs):
                reason = reason or _bind(found.values, var.name, value)
            reason = reason or self._attributes(index, stmt, node, found.attrs)
        if reason:
            failures.append(reason)
            return
        actual = _inputs(node)
        for order in _orders(stmt, node, actual):
            pairs = [(stmt.operands[k], actual[p] if p < len(actual) else None) for k, p in enumerate(order)]
            yield from self._operands(node, pairs, 0, found, failures)

    def _operands(self, node: Node, pairs: list, k: int, found: Match, failures: list[str]) -> Iterator[Match]:
        if k == len(pairs):
            yield found
            return
        operand, value = pairs[k]
        if value is None and not operand.optional:
            failures.append(f"node {node.name} lacks input {k} (%{operand.name})")
            return
        if operand.name in self.definers and value is not None:
            index, output = self.definers[operand.name]
            producer = value.producer
            if producer is None or producer.outputs[output] is not value:
                ops = "|".join(self.statements[index].ops)
                failures.append(f"%{operand.name} of node {node.name} is not produced by {ops}")
                return
            for inner in self._statement(index, producer, found, failures):
                yield from self._operands(node, pairs, k + 1, inner, failures)
            return
        values = dict(found.values)
        reason = _bind(values, operand.name, value)
        if reason:
            failures.append(reason)
            return
        yield from self._operands(node, pairs, k + 1, replace(found, values=values), failures)

    def _node(self, index: int, stmt: OpStatement, node: Node) -> str | None:
        """Why the node cannot match the statement whatever its inputs are, or None."""
        if node.op not in self.ops[index] or node.domain != "":
            return f"node {node.name} is {node.op}, not {'|'.join(stmt.ops)}"
        if len(node.outputs) < len(stmt.outputs):
            return f"node {node.name} has {len(node.outputs)} outputs, the pattern needs {len(stmt.outputs)}"
        actual, named = _inputs(node), len(stmt.operands)
        if len(actual) <= named:
            return None
        extra = range(named, len(actual))
        if self.rule.strict or any(optional_input(node.op, p) is None for p in extra):
            return f"node {node.name} has {len(actual)} inputs, the pattern {named}"
        if self.droppable[index]:
            for position in extra:
                if actual[position] is not None:
                    return (
                        f"node {node.name} has input {position} ('{optional_input(node.op, position)}') that the "
                        f"pattern does not name, and the rewrite would drop it (name it, or copy the node with `...`)"
                    )
        return None

    def _attributes(self, index: int, stmt: OpStatement, node: Node, attrs: dict) -> str | None:
        named = {item.name for item in stmt.attrs}
        unlisted = sorted(set(node.attributes) - named)
        if self.rule.strict and not stmt.rest and unlisted:
            return f"node {node.name} has attribute '{unlisted[0]}' (add `...` to allow others)"
        if self.droppable[index] and not stmt.rest:
            for name in unlisted:
                value = node.attr(name)
                if not _equal(value, attribute_default(node.op, name)):
                    return (
                        f"node {node.name} has attribute '{name}' = {show(value)} that the pattern does not name, "
                        f"and the rewrite would drop it (bind it, or add `...` if it does not matter)"
                    )
        for item in stmt.attrs:
            actual = node.attr(item.name, attribute_default(node.op, item.name))
            if actual is None:
                return f"node {node.name} has no attribute '{item.name}'"
            if isinstance(item.value, AttrVar):
                reason = _bind(attrs, item.value.name, actual)
                if reason:
                    return reason
            elif not _equal(actual, _literal(item.value)):
                return f"attribute '{item.name}' of node {node.name} is {show(actual)}"
        return None


def _inputs(node: Node) -> list[Value | None]:
    """The node's inputs without the absent trailing ones."""
    actual = list(node.inputs)
    while actual and actual[-1] is None:
        actual.pop()
    return actual


def _orders(stmt: OpStatement, node: Node, actual: list) -> Iterator[tuple[int, ...]]:
    """Input positions for the operands: the written order, then the others for a commutative op."""
    count = len(stmt.operands)
    if node.op in COMMUTATIVE and len(actual) == count and 2 <= count <= MAX_PERMUTED:
        yield from itertools.permutations(range(count))
    else:
        yield tuple(range(count))


def _literal(expr):
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


def _bind(table: dict, name: str, value) -> str | None:
    if name in table and table[name] is not value and not _equal(table[name], value):
        return f"%{name} / ${name} would bind two different things"
    table[name] = value
    return None


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
