"""A population graph: the candidates of one batch merged into one ONNX model, each distinct computation once.

Every value of a candidate gets a structural signature: the graph input is the sample batch; a constant is its
dtype, shape and a content hash of its array (so a mutation or morphism that changed weights changes the
signature); a node output is the node's domain, op, attributes and the signatures of its inputs, with the output's
index. Signatures are hash-consed to small integers, so a candidate's node whose signature is already in the
population is not added again: shared prefixes and shared hybrid branches collapse to one node. The model has one
input (the candidates' shared input) and one output per distinct candidate output.

Guarantee: output k of the model is, node for node, the computation of candidate k alone (same ops, attributes,
weights and inputs), so ONNX Runtime gives the same scores as a session of that candidate alone, as long as its
graph optimisations do not rewrite a node differently because it now has more consumers (tests compare
predictions and scores of random candidates exactly). Candidates that cannot be merged (several inputs,
subgraphs that read outer values by name, model-local functions) are said so by `mergeable` and run alone.
"""

from __future__ import annotations

import hashlib

import numpy as np
import onnx
from onnx import helper, numpy_helper

from stitchc.ir import Graph
from stitchc.ir.batch import input_batch
from stitchc.ir.cost import node_macs
from stitchc.ir.node import Attribute, Node
from stitchc.ir.subgraphs import has_subgraphs
from stitchc.ir.types import TensorType, value_info
from stitchc.ir.value import Value

INPUT = "population_input"


def mergeable(graph: Graph) -> bool:
    """True when the graph can join a population graph: one input, no subgraph nodes, no local functions."""
    return len(graph.inputs) == 1 and not graph.functions and not any(has_subgraphs(n) for n in graph.nodes)


class PopulationGraph:
    """Candidates added one by one (`add`), lowered once (`to_onnx`). Counts MACs per sample: `macs_needed` is the
    sum over candidates of their own MACs, `macs_done` the MACs of the distinct nodes the model computes."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}  # signature -> value id (the value's name in the model is v<id>)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.types: dict[int, object] = {}  # value id -> its IR type
        self.digests: dict[int, tuple[np.ndarray, str]] = {}  # id(array) -> (array kept alive, content hash)
        self.outputs: list[int] = []  # per candidate: the value id of its first output
        self.opsets: dict[str, int] | None = None
        self.input_type = None
        self.activation_bytes = 0  # per sample, summed over the distinct node outputs
        self.macs_needed = 0
        self.macs_done = 0

    def accepts(self, graph: Graph) -> bool:
        """Whether `graph` can join: mergeable, with this population's input type and opsets."""
        if not mergeable(graph):
            return False
        return self.opsets is None or (graph.opset_imports == self.opsets and graph.inputs[0].type == self.input_type)

    def add(self, graph: Graph) -> int:
        """Adds a candidate (which `accepts` must allow); returns its index among the model's outputs."""
        if self.opsets is None:
            self.opsets, self.input_type = dict(graph.opset_imports), graph.inputs[0].type
        batch = input_batch(graph)
        ids: dict[int, int] = {id(graph.inputs[0]): self._intern(("input",), graph.inputs[0].type)}
        for node in graph.nodes:
            inputs = tuple(-1 if v is None else self._value_id(v, ids) for v in node.inputs)
            signature = (node.domain, node.op, _attributes_key(node.attributes), inputs)
            fresh = (signature, 0) not in self.ids
            outputs = [self._intern((signature, k), v.type) for k, v in enumerate(node.outputs)]
            ids.update((id(v), i) for v, i in zip(node.outputs, outputs))
            macs = node_macs(node, batch)
            self.macs_needed += macs
            if fresh:
                self.macs_done += macs
                self.activation_bytes += sum(_bytes_per_sample(v.type, batch) for v in node.outputs)
                self._emit(node, inputs, outputs)
        self.outputs.append(self._value_id(graph.outputs[0], ids))
        return len(self.outputs) - 1

    def to_onnx(self) -> onnx.ModelProto:
        """The merged model: input `population_input`, outputs in candidate order (an output shared by several
        candidates appears once; `output_names` maps candidates to names)."""
        names = list(dict.fromkeys(self.output_names()))
        typed = {f"v{i}": t for i, t in self.types.items()}
        infos = [value_info(f"v{i}", t) for i, t in self.types.items() if t is not None and f"v{i}" not in names]
        graph = helper.make_graph(
            self.nodes,
            "population",
            [value_info(INPUT, self.input_type)],
            [value_info(n, typed.get(n)) for n in names],
            initializer=self.initializers,
            value_info=infos,
        )
        opsets = [helper.make_opsetid(domain, version) for domain, version in sorted(self.opsets.items())]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="stitchc")
        model.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
        return model

    def output_names(self) -> list[str]:
        return [INPUT if i == 0 else f"v{i}" for i in self.outputs]

    def _value_id(self, value: Value, ids: dict[int, int]) -> int:
        if id(value) in ids:
            return ids[id(value)]
        if not value.is_const:
            raise ValueError(f"value %{value.name} is neither an input, a constant nor a node output")
        array = np.ascontiguousarray(value.const)
        key = ("const", array.dtype.str, array.shape, self._digest(value.const))
        fresh = key not in self.ids
        identifier = self._intern(key, value.type)
        if fresh:
            self.initializers.append(numpy_helper.from_array(array, f"v{identifier}"))
        ids[id(value)] = identifier
        return identifier

    def _digest(self, array: np.ndarray) -> str:
        """Content hash of a weight array, computed once per array object (arrays are never written in place)."""
        known = self.digests.get(id(array))
        if known is None:
            known = (array, hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16).hexdigest())
            self.digests[id(array)] = known
        return known[1]

    def _intern(self, signature: tuple, type) -> int:
        identifier = self.ids.get(signature)
        if identifier is None:
            identifier = self.ids[signature] = len(self.ids)  # the input is interned first: id 0
            self.types[identifier] = type
        return identifier

    def _emit(self, node: Node, inputs: tuple[int, ...], outputs: list[int]) -> None:
        proto = helper.make_node(
            node.op,
            ["" if i < 0 else (INPUT if i == 0 else f"v{i}") for i in inputs],
            [f"v{i}" for i in outputs],
            name=f"n{outputs[0]}",
            domain=node.domain,
        )
        proto.attribute.extend(a.to_onnx(k) for k, a in node.attributes.items())
        self.nodes.append(proto)


def _attributes_key(attributes: dict[str, Attribute]) -> tuple:
    return tuple(sorted((name, a.kind, _frozen(a.value)) for name, a in attributes.items()))


def _frozen(value):
    """A hashable, exact stand-in for an attribute value (protos by their bytes, lists as tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "SerializeToString"):
        return value.SerializeToString()
    return value


def _bytes_per_sample(type, batch) -> int:
    """Bytes of one sample of a tensor value: static dims multiply, the batch (or any symbol) counts 1."""
    if not isinstance(type, TensorType) or type.shape is None or type.dtype is None:
        return 0
    elements = 1
    for dim in type.shape:
        elements *= dim if isinstance(dim, int) and dim != batch else 1
    return elements * np.dtype(type.dtype).itemsize
