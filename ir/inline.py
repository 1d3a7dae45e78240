"""Inline one graph into another: copies its constants and nodes under a name prefix, binding its inputs."""

from __future__ import annotations

from .graph import Graph
from .node import Node
from .value import Value


def inline(source: Graph, into: Graph, inputs: list[Value], prefix: str) -> dict[int, Value]:
    """Copies `source` into `into` reading `inputs` for its graph inputs; returns id(source value) -> new value.

    Constant arrays are shared, not copied. Node and value names get `prefix`; provenance is kept.
    """
    if len(inputs) != len(source.inputs):
        raise ValueError(f"graph {source.name} has {len(source.inputs)} inputs, {len(inputs)} given")
    mapping: dict[int, Value] = {id(s): v for s, v in zip(source.inputs, inputs)}
    for value in source.constants.values():
        mapping[id(value)] = into.add_constant(prefix + value.name, value.const)
    for node in source.nodes:
        outputs = [Value(into.fresh_name(prefix + v.name), v.type) for v in node.outputs]
        copy = Node(
            node.op,
            [None if v is None else mapping[id(v)] for v in node.inputs],
            outputs,
            into.fresh_name(prefix + node.name),
            node.domain,
            dict(node.attributes),
            node.provenance,
        )
        into._attach(copy)
        into.nodes.append(copy)
        mapping.update({id(old): new for old, new in zip(node.outputs, outputs)})
    return mapping
