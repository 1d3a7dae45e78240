"""torchvision's resnet18 and mobilenet_v2 (10 classes, constructors' random initialisation) reading MNIST
digits f32[N, 1, 28, 28]: a wrapper resizes the digits to 32×32 (bilinear) and repeats the grey channel
three times, the input those architectures expect. Used by specs/torchvision.stitch; trained by
make_torchvision_parents.py.
"""

from __future__ import annotations

import torch
from torch import nn


def _torchvision():
    """torchvision, importable beside a CPU build of torch: its wheel's C ops (nms, qnms) cannot load here, so
    their schemas are defined first (no kernel: the classifiers never call them)."""
    for name in ("nms", "qnms"):
        try:
            getattr(torch.ops.torchvision, name)
        except (AttributeError, RuntimeError):
            torch.library.define(f"torchvision::{name}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision

    return torchvision


class Digits(nn.Module):
    """Resize to 32×32, grey to three channels, then the wrapped network."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        return self.net(x.repeat(1, 3, 1, 1))


class ResNet18(Digits):
    def __init__(self):
        super().__init__(_torchvision().models.resnet18(num_classes=10))


class MobileNetV2(Digits):
    def __init__(self):
        super().__init__(_torchvision().models.mobilenet_v2(num_classes=10))
