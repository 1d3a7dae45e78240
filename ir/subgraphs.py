"""Subgraph attributes (If, Loop, Scan bodies) and the outer values they read by name."""

from __future__ import annotations

from collections.abc import Iterator

import onnx

from .node import Node

GRAPH_KINDS = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)


def has_subgraphs(node: Node) -> bool:
    return any(a.kind in GRAPH_KINDS for a in node.attributes.values())


def subgraph_reads(subgraph: onnx.GraphProto) -> Iterator[str]:
    """Every value name read inside a subgraph, nested ones included (outer-scope captures among them)."""
    for inner in subgraph.node:
        yield from inner.input
        for attribute in inner.attribute:
            for nested in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                yield from subgraph_reads(nested)
    yield from (o.name for o in subgraph.output)


def captured_names(node: Node) -> set[str]:
    """The names a node's subgraphs read (a superset of its outer-scope captures)."""
    names: set[str] = set()
    for attribute in node.attributes.values():
        if attribute.kind == onnx.AttributeProto.GRAPH:
            names.update(subgraph_reads(attribute.value))
        elif attribute.kind == onnx.AttributeProto.GRAPHS:
            for subgraph in attribute.value:
                names.update(subgraph_reads(subgraph))
    return names
