"""Shared fixtures: the example spec's parents and data, and small hand-built ONNX graphs."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import stitchc
from stitchc.data import load_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join(ROOT, "specs")


@pytest.fixture(autouse=True)
def clean_registry():
    """Whatever a test registers (passes, transforms, rules) is gone after it, even when it fails."""
    from stitchc.grammar.std_library import load_std_library
    from stitchc.passes.registry import ENTRIES, discover

    discover()  # the package's own modules
    load_std_library()  # and the std.stitch rules, registered once per process
    before = dict(ENTRIES)
    yield
    ENTRIES.clear()
    ENTRIES.update(before)


@pytest.fixture(scope="session")
def digits():
    return load_dataset("sklearn:digits", (0.6, 0.2, 0.2), seed=0)


@pytest.fixture(scope="session")
def parent_paths():
    return (os.path.join(SPECS, "models", "digits_small.onnx"), os.path.join(SPECS, "models", "digits_wide.onnx"))


# specs/digits.stitch made small: a search of a few seconds (16 evaluations) exporting to "out" beside the spec
TINY = {
    "models/": os.path.join(SPECS, "models") + "/",
    "samples = 1024": "samples = 256",
    "population = 32, seed = 1)": "population = 8, seed = 1)",
    "budget     = 60": "budget     = 16",
    '"out/digits"': '"out"',
}


@pytest.fixture(scope="session")
def tiny_spec_text():
    with open(os.path.join(SPECS, "digits.stitch")) as handle:
        text = handle.read()
    for old, new in TINY.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture()
def tiny_spec(tmp_path, tiny_spec_text):
    path = tmp_path / "tiny.stitch"
    path.write_text(tiny_spec_text)
    return str(path)


@pytest.fixture()
def parents(parent_paths):
    return stitchc.load(parent_paths[0], "a"), stitchc.load(parent_paths[1], "b")


PROGRAM_SPEC = """stitch 1
data digits = dataset("sklearn:digits", split = [0.6, 0.2, 0.2], seed = 0)
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{ fit = digits.train(samples = 512) }}
morphism widen(layer: Conv, factor: int in 2..3 = 2) = net2wider
morphism deepen(layer: Conv) = net2deeper
mutation jitter(rate: float in 0.01..0.2 = 0.05, sigma: float = 0.1) = sparse_gaussian
search front over ab {{
    genome     = [switches, program(widen, deepen, jitter, max = 2)]
    algorithm  = nsga2(population = 16, generations = 3, seed = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
"""


@pytest.fixture()
def program_space(tmp_path, parent_paths, parents, digits):
    """build(spec) -> (GenomeSpace, spec path): the spec template (models {a} and {b}, one search 'front'
    with program genes) over the example parents, its stitches fitted on 256 digits."""
    from stitchc.evolve.genome_space import GenomeSpace
    from stitchc.evolve.program_genes import program_genes
    from stitchc.grammar.checker import load_program
    from stitchc.stitch.fit import fit_supernet
    from stitchc.stitch.supernet import auto_supernet

    def build(spec: str = PROGRAM_SPEC):
        path = tmp_path / "program.stitch"
        path.write_text(spec.format(a=parent_paths[0], b=parent_paths[1]))
        program = load_program(str(path))
        graphs = dict(zip("ab", parents))
        supernet = auto_supernet(graphs)
        fit_supernet(supernet, graphs, digits.train.x[:256])
        search = program.searches["front"]
        return GenomeSpace(supernet, program_genes(search.program, program.transforms, supernet.graph)), str(path)

    return build


class GraphBuilder:
    """Builds small NCHW CNNs as ONNX models with seeded random weights."""

    def __init__(self, seed: int, size: int = 8):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.size = size
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def const(self, shape) -> str:
        name = self.name("w")
        self.inits.append(numpy_helper.from_array((self.rng.normal(size=shape) * 0.3).astype(np.float32), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attributes))
        return out

    def conv(self, x: str, c_in: int, c_out: int, relu: bool = True) -> str:
        y = self.op("Conv", [x, self.const((c_out, c_in, 3, 3)), self.const((c_out,))], pads=[1, 1, 1, 1])
        return self.op("Relu", [y]) if relu else y

    def residual(self, x: str, channels: int) -> str:
        y = self.conv(self.conv(x, channels, channels), channels, channels, relu=False)
        return self.op("Relu", [self.op("Add", [x, y])])

    def head(self, x: str, channels: int, spatial: int, classes: int = 10) -> str:
        flat = self.op("Flatten", [x])
        return self.op(
            "Gemm", [flat, self.const((classes, channels * spatial * spatial)), self.const((classes,))], transB=1
        )

    def model(self, output: str) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            "test",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, self.size, self.size])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 10])],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        return model


def residual_net(seed: int, channels: int, blocks: int) -> onnx.ModelProto:
    """conv stem, `blocks` residual blocks, max-pool, another residual block, linear head."""
    build = GraphBuilder(seed)
    x = build.conv("image", 1, channels)
    for _ in range(blocks):
        x = build.residual(x, channels)
    x = build.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = build.residual(x, channels)
    return build.model(build.head(x, channels, build.size // 2))


def branching_net(seed: int, channels: int) -> onnx.ModelProto:
    """Two parallel conv branches concatenated (Inception-style), twice, then a linear head."""
    build = GraphBuilder(seed)
    x = build.conv("image", 1, channels)
    for _ in range(2):
        left = build.conv(x, channels, channels)
        right = build.conv(build.conv(x, channels, channels), channels, channels)
        x = build.conv(build.op("Concat", [left, right], axis=1), 2 * channels, channels)
    return build.model(build.head(x, channels, build.size))


@pytest.fixture(scope="session")
def make_residual():
    return residual_net


@pytest.fixture(scope="session")
def make_branching():
    return branching_net


def dense_net(seed: int, growth: int, layers: int) -> onnx.ModelProto:
    """DenseNet-style: every conv reads the concatenation of all earlier features; a transition pools."""
    build = GraphBuilder(seed)
    x, channels = build.conv("image", 1, 2 * growth), 2 * growth
    for stage in range(2):
        features = [x]
        for _ in range(layers):
            joined = features[0] if len(features) == 1 else build.op("Concat", features, axis=1)
            features.append(build.conv(joined, channels + growth * (len(features) - 1), growth))
        channels += growth * layers
        x = build.op("Concat", features, axis=1)
        if stage == 0:
            x = build.op("MaxPool", [build.conv(x, channels, channels // 2)], kernel_shape=[2, 2], strides=[2, 2])
            channels //= 2
    return build.model(build.head(x, channels, build.size // 2))


@pytest.fixture(scope="session")
def make_dense():
    return dense_net


@pytest.fixture(scope="session")
def small_spec(tmp_path_factory):
    """Writes the digits spec with a 128-sample fit and a tiny search (about a second), returns its path;
    `small_spec(algorithm)` sets the search's algorithm."""

    def write(algorithm: str = "nsga2(population = 8, generations = 2, seed = 1)") -> str:
        text = open(os.path.join(SPECS, "digits.stitch")).read().replace('"models/', f'"{SPECS}/models/')
        text = text.replace("samples = 1024", "samples = 128")
        text = re.sub(r"algorithm  = .*\n    budget .*\n", f"algorithm = {algorithm}\n", text)
        path = tmp_path_factory.mktemp("spec") / "small.stitch"
        path.write_text(text)
        return str(path)

    return write


def front_bytes(folder) -> bytes:
    """A run folder's front.json as written, but for its `stats` (what this run cost: seconds, evaluations made
    or reused), the one key that differs between reruns of the same search."""
    with open(os.path.join(folder, "front.json")) as handle:
        document = json.load(handle)
    assert document.pop("stats")["evaluations"] >= 0
    return (json.dumps(document, indent=2) + "\n").encode()
