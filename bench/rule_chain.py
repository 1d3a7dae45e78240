"""A one-rule DSL pipeline over a chain of Neg nodes: `fixpoint([neg_neg, dce])` rewrites -(-x) to x.

    python bench/rule_chain.py [--sizes 1000 2000 4000 9000]

Prints, per chain length, the seconds the pipeline takes and the time per node; the chain becomes the
identity (checked). Goal (issue 13): the 9,000-node chain in < 5 s, time growing linearly with the length.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from stitchc.grammar.pipelines import passes_from_spec
from stitchc.ir import Graph, TensorType

SPEC = """stitch 1

rule neg_neg {
    match   { %a = Neg(%x) %b = Neg(%a) }
    rewrite { %b = %x }
}

pipeline cancel = fixpoint([neg_neg, dce], max = 64)
"""


def neg_chain(length: int) -> Graph:
    """x -> Neg -> Neg -> ... (`length` nodes) -> y."""
    graph = Graph("chain")
    kind = TensorType(np.dtype("float32"), ("N", 4))
    value = graph.add_input("x", kind)
    for _ in range(length):
        value = graph.add_node("Neg", [value], [kind]).outputs[0]
    graph.outputs = [value]
    return graph


def cancel_pipeline():
    """The PassManager of SPEC's `cancel` pipeline."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "chain.stitch")
        with open(path, "w") as file:
            file.write(SPEC)
        return passes_from_spec(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 9000])
    args = parser.parse_args()
    print(f"{'nodes':>6} {'seconds':>9} {'µs/node':>9}  result")
    for length in args.sizes:
        graph, manager = neg_chain(length), cancel_pipeline()
        started = time.perf_counter()
        result = manager(graph)
        seconds = time.perf_counter() - started
        left = len(result.graph.nodes)
        print(f"{length:>6} {seconds:9.2f} {seconds / length * 1e6:9.1f}  {left} nodes left; {manager.report}")
        if left != length % 2:
            sys.exit(f"rule_chain: the chain of {length} did not reduce to {length % 2} nodes")


if __name__ == "__main__":
    main()
