"""Sessions of IR graphs: weights handed to ONNX Runtime without serialising them, reused while the graph is the
same, outputs bit-identical to a session on the fully serialised model."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from stitchc.ir import from_onnx
from stitchc.ir.runtime import session, session_for
from stitchc.ir.session_cache import clear_sessions
from stitchc.stitch.decode import decode
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.supernet import auto_supernet


def _serialised(graph):
    return session(graph.to_onnx())  # a ModelProto runs on its serialised bytes


def _run(sess, x):
    return sess.run(None, {sess.get_inputs()[0].name: x})


def test_outputs_are_bit_identical_to_the_serialised_model(parents, digits):
    supernet = auto_supernet(dict(zip("ab", parents)))
    fit_supernet(supernet, dict(zip("ab", parents)), digits.train.x[:256])
    rng = np.random.default_rng(0)
    hybrids = [decode(supernet, tuple(int(rng.integers(len(g.options))) for g in supernet.genes)) for _ in range(4)]
    x = digits.val.x[:64]
    for graph in (*parents, decode(supernet, supernet.ensemble_genome()), *hybrids):
        for expected, actual in zip(_run(_serialised(graph), x), _run(session_for(graph), x)):
            np.testing.assert_array_equal(actual, expected)


def test_weights_are_not_serialised(parents):
    lean = session_for(parents[1])
    size = sum(len(t.raw_data) for t in parents[1].to_onnx().graph.initializer)
    assert size > 100_000 and sum(v.numpy().nbytes for v in lean.stitchc_weights) > 0.9 * size


def test_the_same_graph_reuses_its_session_and_new_weights_do_not(parents, digits):
    clear_sessions()
    graph = parents[0]
    first = session(graph)
    assert session(graph.copy()) is first  # a copy shares the weight arrays: same computation
    changed = graph.copy()
    weight = max(changed.constants.values(), key=lambda v: v.const.size)
    weight.const = weight.const * 2  # copy on write: a new array
    other = session(changed)
    assert other is not first
    x = digits.val.x[:8]
    assert not np.array_equal(_run(first, x)[0], _run(other, x)[0])
    assert session(graph, threads=2) is not first


def test_fusions_on_weights_handed_over_stay_bit_identical():
    """Conv + BatchNormalization + Mul by a constant: ORT's fusions read the handed-over weights (every
    parameter here is above the inline threshold) and give the bits of the serialised model."""
    rng = np.random.default_rng(0)
    channels = 320
    arrays = {
        "w": rng.standard_normal((channels, channels, 3, 3)),
        "bias": rng.standard_normal(channels),
        "scale": rng.random(channels) + 0.5,
        "shift": rng.standard_normal(channels),
        "mean": rng.standard_normal(channels),
        "var": rng.random(channels) + 0.5,
        "gain": rng.random((1, channels, 1, 1)),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w", "bias"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"]),
        helper.make_node("Relu", ["n"], ["r"]),
        helper.make_node("Mul", ["r", "gain"], ["y"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", channels, 4, 4])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    initializers = [numpy_helper.from_array(a.astype(np.float32), name) for name, a in arrays.items()]
    graph = from_onnx(
        helper.make_model(
            helper.make_graph(nodes, "bn", inputs, outputs, initializers), opset_imports=[helper.make_opsetid("", 17)]
        ),
        "bn",
    )
    lean = session_for(graph)
    assert len(lean.stitchc_weights) == len(arrays)
    x = rng.standard_normal((2, channels, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(_run(lean, x)[0], _run(_serialised(graph), x)[0])
