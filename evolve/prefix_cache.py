"""Reuse what candidates share with their parents: cached parent features on the evaluation inputs.

A candidate's nodes that come unchanged from one parent and read only that parent's values compute
exactly the parent's values. Their results at the stitch points and at the parents' outputs are computed
once (ONNX Runtime, memory-mapped on disk); a candidate is then evaluated from those features: each
cached value its other nodes read becomes a graph input, and the parent prefix before it is pruned.
Guarantee: the same outputs as the whole candidate, up to the floating-point reassociation ONNX Runtime
may apply differently to a cut graph. MACs and parameters are always counted on the whole candidate.
"""
from __future__ import annotations

import numpy as np

from stitchc.ir import Graph, Value
from stitchc.passes.dce import DeadCodeElimination
from stitchc.passes.feature_cache import cached_features
from stitchc.passes.stitch_points import Point
from stitchc.passes.supernet import Supernet


class PrefixCache:
    def __init__(self, supernet: Supernet, parents: dict[str, Graph], x: np.ndarray, folder: str):
        self.features: dict[str, np.ndarray] = {}  # "node:output index" in the supernet -> features on x
        for name, graph in parents.items():
            values = [s.source.value for s in supernet.stitches if s.plan.source_parent == name]
            values += [s.target.value for s in supernet.stitches if s.plan.target_parent == name]
            values.append(graph.outputs[0])
            points = [Point(v, 0) for v in {id(v): v for v in values}.values()]
            for point, array in zip(points, cached_features(graph, points, x, folder).values()):
                producer = point.value.producer
                self.features[f"{name}/{producer.name}:{producer.outputs.index(point.value)}"] = array
        self.parents = {f"{name}/": name for name in parents}
        self.image = supernet.graph.inputs[0].name
        self.weights = {name: v.const for name, v in supernet.graph.constants.items()}

    def __getstate__(self):  # workers reopen the memory maps instead of receiving copies
        return {**self.__dict__, "features": {k: v.filename for k, v in self.features.items()}}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.features = {k: np.load(path, mmap_mode="r") for k, path in state["features"].items()}

    def cut(self, graph: Graph, x: np.ndarray) -> tuple[Graph, dict[str, np.ndarray]]:
        """The candidate with every cached parent value it reads turned into an input, and its feeds."""
        pure = self._pure_values(graph)
        frontier = [v for v in pure if _key(v) in self.features and self._read_outside(v, pure, graph)]
        if not frontier:
            return graph, {self.image: x}
        cut = graph.copy()
        by_name = {v.name: v for v in cut.values()}
        for value in frontier:
            original = by_name[value.name]
            cut.replace_all_uses(original, cut.add_input(f"cached:{_key(value)}", original.type))
        DeadCodeElimination()(cut)
        feeds = {v.name: self.features[v.name[len("cached:") :]] for v in cut.inputs if v.name.startswith("cached:")}
        if any(v.name == self.image and v.uses for v in cut.inputs):
            feeds[self.image] = x
        cut.inputs = [v for v in cut.inputs if v.name in feeds]
        return cut, feeds

    def _pure_values(self, graph: Graph) -> list[Value]:
        """Values computed by unchanged nodes of one parent from the input alone, in graph order."""
        pure = {id(graph.inputs[0])}
        values = []
        for node in graph.nodes:
            parent = next((p for prefix, p in self.parents.items() if node.name.startswith(prefix)), None)
            if parent is None or node.provenance is None or node.provenance.parent != parent:
                continue
            if all(v is None or id(v) in pure or self._unchanged(v) for v in node.inputs):
                pure.update(id(v) for v in node.outputs)
                values += node.outputs
        return values

    def _unchanged(self, value: Value) -> bool:
        """A constant that is still the supernet's own array (program steps replace arrays, never edit them)."""
        return value.is_const and self.weights.get(value.name) is value.const

    @staticmethod
    def _read_outside(value: Value, pure: list[Value], graph: Graph) -> bool:
        inside = {id(v.producer) for v in pure}
        return value in graph.outputs or any(id(user) not in inside for user, _ in value.uses)


def _key(value: Value) -> str:
    """Names a value by its producing node (node names survive decoding; the output value is renamed)."""
    return f"{value.producer.name}:{value.producer.outputs.index(value)}"
