"""IR → ONNX lowering plus ORT session creation, against torch.onnx.export, on a ResNet-18, side by side.

    python bench/lowering.py [--repeat 5]

Prints the median time of each path and its ratio to `session_for` on a new graph (IR lowering without
serialising weights + ORT session creation, the session cache cleared first), all measured in the same run:
the serialised IR path, a cache hit (the same graph again), and torch.onnx.export (TorchScript and dynamo)
each followed by session creation. Goal (issue 13): the dynamo path ≥ 20× the new-graph path.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import warnings

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo import resnet18  # noqa: E402

from stitchc.ir import from_onnx  # noqa: E402
from stitchc.ir.runtime import session  # noqa: E402
from stitchc.ir.session_cache import clear_sessions  # noqa: E402


def interleaved_medians(actions: list, repeat: int) -> list[float]:
    """The median seconds of each action, the actions run in turn within every repeat (a noisy machine slows
    them alike)."""
    times = [[] for _ in actions]
    for _ in range(repeat):
        for action, record in zip(actions, times):
            started = time.perf_counter()
            action()
            record.append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


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
    graph = from_onnx(onnx.load_from_string(export(model, example, dynamo=False)), "resnet18")
    print(f"ResNet-18: {len(graph.nodes)} nodes, {graph.macs() / 1e9:.3f} GMACs, {graph.params() / 1e6:.2f} M params")
    serialised = graph.to_onnx()

    def cold_session():
        clear_sessions()
        return session(graph)

    def torch_path(dynamo: bool):
        return lambda: session(onnx.load_from_string(export(model, example, dynamo)))

    paths = [
        ("IR to_onnx (weights serialised)", graph.to_onnx),
        ("IR to_onnx + session (serialised)", lambda: session(graph.to_onnx())),
        ("IR session_for, new graph", cold_session),
        ("IR session_for, same graph", lambda: session(graph)),
        ("torch.onnx.export(dynamo=False) + session", torch_path(False)),
    ]
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)

        paths.append(("torch.onnx.export(dynamo=True) + session", torch_path(True)))
    except ImportError:
        print("torch.onnx.export(dynamo=True) skipped: onnxscript is not installed")
    rows = list(zip([name for name, _ in paths], interleaved_medians([a for _, a in paths], args.repeat)))
    print(f"serialised model {serialised.ByteSize() / 2**20:.1f} MiB; every row measured in this run, interleaved")
    new_graph = rows[2][1]
    print(f"{'path':<44} {'median':>10}   {'/ IR session_for, new graph':>27}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds * 1e3:7.1f} ms   {seconds / new_graph:26.3g}x")


if __name__ == "__main__":
    main()
