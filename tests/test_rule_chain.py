"""The rule chain of bench/rule_chain.py: `fixpoint([neg_neg, dce])` cancels a long chain of Neg pairs."""

from __future__ import annotations

import os
import runpy

import numpy as np

from stitchc.ir.runtime import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench() -> dict:
    return runpy.run_path(os.path.join(ROOT, "bench", "rule_chain.py"))  # its functions, without running main


def test_an_even_chain_becomes_the_identity():
    bench = _bench()
    graph = bench["neg_chain"](2000)
    result = bench["cancel_pipeline"]()(graph).graph
    assert result.nodes == []
    assert result.outputs == result.inputs


def test_an_odd_chain_keeps_one_neg_equal_to_the_original():
    bench = _bench()
    graph = bench["neg_chain"](1001)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    expected = run(graph, x)[0]
    result = bench["cancel_pipeline"]()(graph.copy()).graph
    assert [n.op for n in result.nodes] == ["Neg"]
    np.testing.assert_array_equal(run(result, x)[0], expected)
    np.testing.assert_array_equal(expected, -x)
