"""Closed-form stitch fitting against the published SGD recipe, on the same stitches and data, side by side.

    python bench/stitch_fit.py [--spec specs/digits.stitch] [--samples 1024]

Recipe (Guijt et al.): stitches from PyTorch's default init, AdamW lr 1e-3, wd 1e-5, cosine schedule,
batch 32, 3 epochs, feature MSE. Closed form: ridge least squares (stitchc's default). Both are scored
by the feature MSE on the fit samples (the training objective) and on held-out samples. The closed form's
time includes its one streaming pass of the parents; the recipe reads features cached before its timer.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from stitchc.data import load_data
from stitchc.grammar.checker import load_program
from stitchc.ir import load_onnx
from stitchc.stitch.feature_cache import parent_features
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.refine import refine_stitches
from stitchc.stitch.supernet import auto_supernet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def held_out_mse(supernet, parents, x, cache) -> float:
    """Mean over stitches of the feature MSE on `x` with the supernet's current parameters."""
    from stitchc.stitch.rows import as_rows, resample_source

    features = parent_features(supernet.stitches, parents, x, cache)
    errors = []
    for s in supernet.stitches:
        source = as_rows(resample_source(np.asarray(features[id(s.source.value)]), s.resample))
        target = as_rows(np.asarray(features[id(s.target.value)]))
        weight = s.weight.const.reshape(s.target.channels, s.source.channels).T
        errors.append(float(np.mean((source @ weight + s.bias.const - target) ** 2)))
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", default=os.path.join(ROOT, "specs", "digits.stitch"))
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    program = load_program(args.spec)
    stitch = next(iter(program.stitches.values()))
    data_spec = program.data[stitch.data]
    data = load_data(data_spec)
    parents = {name: load_onnx(program.models[name].path, name) for name in (stitch.left, stitch.right)}
    fit_x, check_x = data.train.take(args.samples), data.val
    cache = tempfile.mkdtemp(prefix="stitchc-bench-")
    closed, sgd = auto_supernet(parents), auto_supernet(parents)
    parent_features(closed.stitches, parents, fit_x, cache)  # warm the feature cache for the recipe
    parent_features(closed.stitches, parents, check_x, cache)

    started = time.perf_counter()
    closed_fit = fit_supernet(closed, parents, fit_x)
    closed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    sgd_fit = refine_stitches(sgd, parents, fit_x, epochs=args.epochs, reset=True)
    sgd_seconds = time.perf_counter() - started

    rows = [
        (
            "closed form (ridge)",
            closed_seconds,
            np.mean(list(closed_fit.values())),
            held_out_mse(closed, parents, check_x, cache),
        ),
        (
            f"AdamW recipe ({args.epochs} epochs)",
            sgd_seconds,
            np.mean(list(sgd_fit.values())),
            held_out_mse(sgd, parents, check_x, cache),
        ),
    ]
    print(
        f"{len(closed.stitches)} stitches, {len(fit_x)} fit samples, {len(check_x)} held-out samples "
        f"({os.path.basename(args.spec)})"
    )
    print(f"{'method':<26} {'time':>9} {'fit MSE':>10} {'held-out MSE':>13}")
    for name, seconds, fit_mse, check_mse in rows:
        print(f"{name:<26} {seconds:8.2f}s {fit_mse:10.4f} {check_mse:13.4f}")
    print(
        f"closed form is {sgd_seconds / closed_seconds:.1f}x faster; "
        f"its fit MSE is {rows[0][2] / rows[1][2]:.3f}x and held-out MSE {rows[0][3] / rows[1][3]:.3f}x the recipe's"
    )


if __name__ == "__main__":
    main()
