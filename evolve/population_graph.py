"""A population graph: the candidates of one batch merged into one ONNX model, each distinct computation once.

Every value of a candidate gets a structural signature: the graph input is the sample batch; a constant is its
dtype, shape and a content hash of its array (so a mutation or morphism that changed weights changes the
signature); a node output is the node's domain, op, attributes and the signatures of its inputs, with the output's
index. Signatures are hash-consed to small integers, so a candidate's node whose signature is already in the
population is not added again: shared prefixes and shared hybrid branches collapse to one node. The model has one
input (the candidates' shared input) and one output per distinct candidate output.

Guarantee: output k of the model is, node for node, the computation of candidate k alone (same ops, attributes,
weights and inputs), so ONNX Runtime gives the same scores as a session of that candidate alone, as long as its
graph optimisations do not rewrite a node differently because it now has more consumers. The one such rewrite
that changes rounding, an Add fused into one of its Convs, is made beforehand in each candidate
(stitchc.evolve.conv_sum_fusion); tests compare predictions and scores of random candidates exactly, torchvision
resnet18 x mobilenet_v2 among them. Candidates that cannot be merged (several inputs,
subgraphs that read outer values by name, model-local functions) are said so by `mergeable` and run alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


def read_twice(graph: Graph) -> frozenset[str]:
    """Names of the values of `graph` that several nodes read (in a supernet: stitch points, switch inputs)."""
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in {v.name for v in node.inputs if v is not None and not v.is_const}:
            readers[name] = readers.get(name, 0) + 1
    return frozenset(name for name, count in readers.items() if count > 1)


class Signatures:
    """The hash-consing table: signature -> value id. Kept for a process's life, so an id names the same
    computation in every population graph built with the table (the activation cache relies on it). It also
    knows the branch points: values named in `points`, and values two different computations have read."""

    def __init__(self, points: frozenset[str] = frozenset()):
        self.ids: dict[tuple, int] = {}
        self.types: dict[int, object] = {}  # value id -> its IR type
        self.digests: dict[int, tuple[np.ndarray, str]] = {}  # id(array) -> (array kept alive, content hash)
        self.points = frozenset(points)
        self.readers: dict[int, set[int]] = {}  # value id -> first output ids of the computations reading it

    def is_branch_point(self, value: int, node: Node) -> bool:
        """Whether candidates may part ways after `value`, the first output of `node`."""
        return node.outputs[0].name in self.points or len(self.readers.get(value, ())) > 1

    def intern(self, signature: tuple, type) -> int:
        identifier = self.ids.get(signature)
        if identifier is None:
            identifier = self.ids[signature] = len(self.ids)
            self.types[identifier] = type
        return identifier

    def digest(self, array: np.ndarray) -> str:
        """Content hash of a weight array, computed once per array object while it is remembered (arrays are
        never written in place); `forget_arrays` drops the arrays (and their hashes) between batches."""
        known = self.digests.get(id(array))
        if known is None:
            known = (array, hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16).hexdigest())
            self.digests[id(array)] = known
        return known[1]

    def forget_arrays(self) -> None:
        self.digests.clear()


@dataclass
class Computation:
    """A distinct node of a population graph: its node (of the first candidate that had it), input and output
    value ids (-1: an omitted optional input), MACs and output bytes per sample."""

    node: Node
    inputs: tuple[int, ...]
    outputs: list[int]
    macs: int
    bytes: int


class PopulationGraph:
    """Candidates added one by one (`add`), lowered once (`to_onnx`). Counts MACs per sample: `macs_needed` is the
    sum over candidates of their own MACs, `macs_done` the MACs of the distinct nodes the lowered model computes."""

    def __init__(self, signatures: Signatures | None = None):
        self.signatures = signatures or Signatures()
        self.computations: list[Computation] = []  # in definition order (topological)
        self.producer: dict[int, int] = {}  # value id -> index of its computation
        self.constants: dict[int, np.ndarray] = {}
        self.outputs: list[int] = []  # per candidate: the value id of its first output
        self.opsets: dict[str, int] | None = None
        self.input_type = None
        self.input_id = -1
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
            self.input_id = self.signatures.intern(("input",), self.input_type)
        batch = input_batch(graph)
        ids: dict[int, int] = {id(graph.inputs[0]): self.input_id}
        for node in graph.nodes:
            inputs = tuple(-1 if v is None else self._value_id(v, ids) for v in node.inputs)
            signature = (node.domain, node.op, _attributes_key(node.attributes), inputs)
            outputs = [self.signatures.intern((signature, k), v.type) for k, v in enumerate(node.outputs)]
            ids.update((id(v), i) for v, i in zip(node.outputs, outputs))
            macs = node_macs(node, batch)
            self.macs_needed += macs
            for value in (i for i in inputs if i >= 0):
                self.signatures.readers.setdefault(value, set()).add(outputs[0])
            if outputs[0] not in self.producer:
                size = sum(_bytes_per_sample(v.type, batch) for v in node.outputs)
                self.producer.update((v, len(self.computations)) for v in outputs)
                self.computations.append(Computation(node, inputs, outputs, macs, size))
                self.activation_bytes += size
        self.outputs.append(self._value_id(graph.outputs[0], ids))
        return len(self.outputs) - 1

    def needed(self, given: set[int], fetch: list[int] = ()) -> list[Computation]:
        """The computations the candidates' outputs and `fetch` need when the values in `given` are fed in, in
        definition order."""
        keep: set[int] = set()
        stack = list(self.outputs) + list(fetch)
        while stack:
            value = stack.pop()
            index = self.producer.get(value)
            if index is None or index in keep or (value in given and value not in self.outputs):
                continue
            keep.add(index)
            stack.extend(i for i in self.computations[index].inputs if i >= 0)
        return [self.computations[i] for i in sorted(keep)]

    def to_onnx(self, given: set[int] = frozenset(), fetch: list[int] = ()) -> onnx.ModelProto:
        """The merged model. Inputs: `population_input` (the samples), then the values of `given` that it reads
        (named by `name`). Outputs: the candidates' (an output shared by several candidates appears once;
        `output_names` maps candidates to names), then the values of `fetch`. Sets `macs_done`."""
        computations = self.needed(given, fetch)
        self.macs_done = sum(c.macs for c in computations)
        read = {i for c in computations for i in c.inputs if i >= 0}
        fed = sorted(v for v in given if v in read and v in self.producer and v not in self.outputs)
        names = list(dict.fromkeys(self.output_names() + [self.name(v) for v in fetch]))
        types = self.signatures.types
        produced = {v for c in computations for v in c.outputs}
        infos = [value_info(self.name(v), types[v]) for v in produced if types[v] is not None]
        graph = helper.make_graph(
            [self._node(c) for c in computations],
            "population",
            [value_info(INPUT, self.input_type)] + [value_info(self.name(v), types[v]) for v in fed],
            [value_info(n, types.get(int(n[1:])) if n != INPUT else self.input_type) for n in names],
            initializer=[numpy_helper.from_array(a, self.name(v)) for v, a in self.constants.items() if v in read],
            value_info=[i for i in infos if i.name not in names],
        )
        opsets = [helper.make_opsetid(domain, version) for domain, version in sorted(self.opsets.items())]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="stitchc")
        model.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
        return model

    def name(self, value: int) -> str:
        return INPUT if value == self.input_id else f"v{value}"

    def output_names(self) -> list[str]:
        return [self.name(v) for v in self.outputs]

    def _value_id(self, value: Value, ids: dict[int, int]) -> int:
        if id(value) in ids:
            return ids[id(value)]
        if not value.is_const:
            raise ValueError(f"value %{value.name} is neither an input, a constant nor a node output")
        array = np.ascontiguousarray(value.const)
        key = ("const", array.dtype.str, array.shape, self.signatures.digest(value.const))
        identifier = self.signatures.intern(key, value.type)
        self.constants.setdefault(identifier, array)
        ids[id(value)] = identifier
        return identifier

    def _node(self, computation: Computation) -> onnx.NodeProto:
        node = computation.node
        proto = helper.make_node(
            node.op,
            ["" if i < 0 else self.name(i) for i in computation.inputs],
            [self.name(i) for i in computation.outputs],
            name=f"n{computation.outputs[0]}",
            domain=node.domain,
        )
        proto.attribute.extend(a.to_onnx(k) for k, a in node.attributes.items())
        return proto


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
