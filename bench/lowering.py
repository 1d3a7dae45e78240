"""IR → ONNX lowering plus ORT session creation, against torch.onnx.export, on a ResNet-18, side by side.

    python bench/lowering.py [--repeat 5]

Prints the median time of each path and its ratios against IR lowering alone and against IR lowering plus
ORT session creation, all measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo import resnet18  # noqa: E402

from stitchc.ir import from_onnx  # noqa: E402
from stitchc.ir.runtime import session  # noqa: E402


def median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def export(model, example, dynamo: bool) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=dynamo,
            opset_version=18 if dynamo else 17,
            input_names=["image"],
            output_names=["logits"],
            verbose=False,
        )
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, example = resnet18(), torch.zeros(1, 3, 224, 224)
    import onnx

    graph = from_onnx(onnx.load_from_string(export(model, example, dynamo=False)), "resnet18")
    print(f"ResNet-18: {len(graph.nodes)} nodes, {graph.macs() / 1e9:.3f} GMACs, {graph.params() / 1e6:.2f} M params")
    rows = [
        ("IR to_onnx", median_seconds(graph.to_onnx, args.repeat)),
        ("IR to_onnx + ORT session", median_seconds(lambda: session(graph), args.repeat)),
        ("torch.onnx.export(dynamo=False)", median_seconds(lambda: export(model, example, False), args.repeat)),
    ]
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)

        rows.append(
            (
                "torch.onnx.export(dynamo=True)",
                median_seconds(lambda: export(model, example, True), max(1, args.repeat // 2)),
            )
        )
    except ImportError:
        print("torch.onnx.export(dynamo=True) skipped: onnxscript is not installed")
    lowering, with_session = rows[0][1], rows[1][1]
    print(f"{'path':<34} {'median':>12}   {'/ IR lowering':>13}   {'/ IR lowering + session':>23}")
    for name, seconds in rows:
        print(f"{name:<34} {seconds * 1e3:9.1f} ms   {seconds / lowering:12.1f}x   {seconds / with_session:22.1f}x")


if __name__ == "__main__":
    main()
