"""Trains the two parents of specs/digits.stitch on the train split of sklearn's digits, deterministically.

    python specs/models/make_parents.py        # writes digits_small.onnx and digits_wide.onnx here

The parents differ in depth and width: `small` is a 2-conv, 8/16-channel CNN; `wide` a 4-conv, 32/64-channel
CNN with a hidden dense layer. Both read f32[N, 1, 8, 8] and return 10 logits.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from stitchc.data import load_dataset

HERE = os.path.dirname(os.path.abspath(__file__))


def small() -> nn.Module:
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 8, 3, padding=1),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(8, 16, 3, padding=1),
            relu2=nn.ReLU(),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc=nn.Linear(64, 10),
        )
    )


def wide() -> nn.Module:
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 32, 3, padding=1),
            relu1=nn.ReLU(),
            conv2=nn.Conv2d(32, 32, 3, padding=1),
            relu2=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv3=nn.Conv2d(32, 64, 3, padding=1),
            relu3=nn.ReLU(),
            conv4=nn.Conv2d(64, 64, 3, padding=1),
            relu4=nn.ReLU(),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc1=nn.Linear(256, 128),
            relu5=nn.ReLU(),
            fc2=nn.Linear(128, 10),
        )
    )


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int, lr: float = 2e-3) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(epochs):
        for batch in torch.randperm(len(xs), generator=generator).split(32):
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimiser.step()
    return model.eval()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def export(model: nn.Module, path: str, size: int = 8) -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter keeps layer names
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, size, size),),
        path,
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        dynamo=False,
    )


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = load_dataset("sklearn:digits", (0.6, 0.2, 0.2), seed=0)
    for name, build, epochs in (("small", small, 12), ("wide", wide, 12)):
        torch.manual_seed(1)
        model = train(build(), data.train.x, data.train.y, epochs, seed=2)
        print(f"{name}: val accuracy {accuracy(model, data.val.x, data.val.y):.4f}")
        export(model, os.path.join(HERE, f"digits_{name}.onnx"))


if __name__ == "__main__":
    main()
