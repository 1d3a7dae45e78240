"""Graph verification for debug pipelines: SSA definitions before uses, consistent use lists, unique names."""

from __future__ import annotations

from stitchc.ir import Graph


class VerificationError(Exception):
    """A pass left the graph inconsistent; the message names the pass and the first problem."""


def verify(graph: Graph, after: str = "") -> None:
    problems = _problems(graph)
    if problems:
        raise VerificationError((f"after pass {after}: " if after else "") + problems[0])


def _problems(graph: Graph) -> list[str]:
    problems, names = [], set()
    defined = {id(v) for v in graph.inputs} | {id(v) for v in graph.constants.values()}
    for value in [*graph.inputs, *graph.constants.values()]:
        if value.name in names:
            problems.append(f"value name %{value.name} is defined twice")
        names.add(value.name)
    for node in graph.nodes:
        for index, value in enumerate(node.inputs):
            if value is None:
                continue
            if id(value) not in defined:
                problems.append(
                    f"node {node.name} reads %{value.name} before it is defined (or it is not in the graph)"
                )
            if not any(user is node and i == index for user, i in value.uses):
                problems.append(f"%{value.name} does not list its use by node {node.name}")
        for value in node.outputs:
            if value.producer is not node:
                problems.append(f"%{value.name} does not name node {node.name} as its producer")
            if value.name in names:
                problems.append(f"value name %{value.name} is defined twice")
            names.add(value.name)
            defined.add(id(value))
    live = {id(n) for n in graph.nodes}
    for value in graph.values():
        for user, index in value.uses:
            if id(user) not in live:
                problems.append(f"%{value.name} lists a use by node {user.name}, which is not in the graph")
            elif user.inputs[index] is not value:
                problems.append(f"%{value.name} lists a stale use by node {user.name}")
    problems += [f"graph output %{v.name} is not defined" for v in graph.outputs if id(v) not in defined]
    return problems
