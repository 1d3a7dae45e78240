"""Structural signatures of a graph's values: how each is computed from the graph's input.

A value's signature is a digest of its producing node's domain, op and attributes, its output index, and
the signatures of the node's inputs; a graph input's signature is its position, a constant's its dtype,
shape and bytes. Equal signatures in two parents that read the same input mean the same function of that
input (e.g. both parents' identical preprocessing): a stitch between them would add nothing. The converse
does not hold (different computations may agree), so a different signature proves nothing.
"""

from __future__ import annotations

import hashlib

from stitchc.ir import Graph, Value


def signatures(graph: Graph) -> dict[int, bytes]:
    """id(value) -> signature of every input, constant and node output of `graph` (nodes in topological order)."""
    digests: dict[int, bytes] = {id(v): b"input %d" % i for i, v in enumerate(graph.inputs)}

    def of(value: Value | None) -> bytes:
        if value is None:
            return b"absent"
        if id(value) not in digests:  # constants, hashed when first read
            array = value.const
            digests[id(value)] = _digest(str(array.dtype).encode(), repr(array.shape).encode(), array.tobytes())
        return digests[id(value)]

    for node in graph.nodes:
        attributes = [
            name.encode() + node.attributes[name].to_onnx(name).SerializeToString(deterministic=True)
            for name in sorted(node.attributes)
        ]
        head = _digest(node.domain.encode(), node.op.encode(), *attributes, *[of(v) for v in node.inputs])
        for index, value in enumerate(node.outputs):
            digests[id(value)] = _digest(head, b"%d" % index)
    return digests


def _digest(*parts: bytes) -> bytes:
    hasher = hashlib.sha1()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little"))
        hasher.update(part)
    return hasher.digest()
