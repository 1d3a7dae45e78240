"""Reference networks written out here (no torchvision, no downloads), with random weights."""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + identity)


class ResNet18(nn.Module):
    """The torchvision ResNet-18 layout (1.82 GMACs at 224×224)."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = (64, 128, 256, 512)
        layers, c_in = [], 64
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            layers.append(nn.Sequential(BasicBlock(c_in, width, stride), BasicBlock(width, width, 1)))
            c_in = width
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> nn.Module:
    torch.manual_seed(0)
    return ResNet18().eval()


# ----- the other torchvision-style families, reduced widths, real block structure ---------------------------
def conv_bn(c_in: int, c_out: int, k: int = 3, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU):
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG-11 layout (conv3x3 stacks and max-pools, then a 3-layer classifier), widths / 8."""

    def __init__(self, classes: int = 10, config=(8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M")):
        super().__init__()
        layers, c_in = [], 3
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, item, 3, padding=1), nn.ReLU(inplace=True)]
                c_in = item
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(c_in, 128),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(128, classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, squeezed: int, gate: type = nn.Hardsigmoid, act: type = nn.ReLU):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(channels, squeezed, 1), nn.Conv2d(squeezed, channels, 1)
        self.act, self.gate = act(), gate()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))))


class InvertedResidual(nn.Module):
    """MobileNetV2/V3 and EfficientNet block: 1x1 expand, depthwise kxk, optional SE, 1x1 project, skip."""

    def __init__(self, c_in, c_exp, c_out, k, stride, act=nn.ReLU6, se: nn.Module | None = None):
        super().__init__()
        layers = [conv_bn(c_in, c_exp, 1, act=act)] if c_exp != c_in else []
        layers.append(conv_bn(c_exp, c_exp, k, stride, groups=c_exp, act=act))
        if se is not None:
            layers.append(se)
        layers.append(conv_bn(c_exp, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.block(x) if self.skip else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        rows = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 2), (6, 24, 2, 2), (6, 32, 1, 1)]  # t, c, n, s
        layers, c_in = [conv_bn(3, 16, 3, 2, act=nn.ReLU6)], 16
        for t, c, n, s in rows:
            for i in range(n):
                layers.append(InvertedResidual(c_in, c_in * t, c, 3, s if i == 0 else 1))
                c_in = c
        layers.append(conv_bn(c_in, 128, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(128, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class MobileNetV3(nn.Module):
    """MobileNetV3-Small layout: hard-swish, SE with hard-sigmoid gates, 5x5 depthwise convs."""

    def __init__(self, classes: int = 10):
        super().__init__()
        rows = [
            (3, 16, 16, True, "RE", 2),
            (3, 36, 24, False, "RE", 2),
            (5, 48, 24, True, "HS", 1),
            (5, 96, 40, True, "HS", 2),
            (5, 120, 48, True, "HS", 1),
        ]  # k, exp, out, se, act, stride
        layers, c_in = [conv_bn(3, 16, 3, 2, act=nn.Hardswish)], 16
        for k, exp, out, se, act, stride in rows:
            activation = nn.ReLU if act == "RE" else nn.Hardswish
            layers.append(
                InvertedResidual(
                    c_in, exp, out, k, stride, activation, SqueezeExcite(exp, max(8, exp // 4)) if se else None
                )
            )
            c_in = out
        layers.append(conv_bn(c_in, 96, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(96, 128), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(128, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class EfficientNetB0(nn.Module):
    """EfficientNet-B0 layout (MBConv with SiLU and sigmoid-gated SE, 3x3 and 5x5 stages), widths / 4."""

    def __init__(self, classes: int = 10):
        super().__init__()
        rows = [
            (1, 3, 1, 1, 4),
            (6, 3, 2, 2, 6),
            (6, 5, 2, 2, 10),
            (6, 3, 2, 3, 20),
            (6, 5, 1, 3, 28),
            (6, 5, 2, 4, 48),
            (6, 3, 1, 1, 80),
        ]  # expand, k, stride, repeats, out
        layers, c_in = [conv_bn(3, 8, 3, 2, act=nn.SiLU)], 8
        for expand, k, stride, repeats, out in rows:
            for i in range(repeats):
                se = SqueezeExcite(c_in * expand, max(1, c_in // 4), gate=nn.Sigmoid, act=nn.SiLU)
                layers.append(InvertedResidual(c_in, c_in * expand, out, k, stride if i == 0 else 1, nn.SiLU, se))
                c_in = out
        layers.append(conv_bn(c_in, 320, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(320, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(c_in), nn.Conv2d(c_in, 4 * growth, 1, bias=False)
        self.norm2, self.conv2 = nn.BatchNorm2d(4 * growth), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = self.conv1(torch.relu(self.norm1(torch.cat(features, 1))))
        return self.conv2(torch.relu(self.norm2(x)))


class DenseBlock(nn.Module):
    def __init__(self, layers: int, c_in: int, growth: int):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(c_in + i * growth, growth) for i in range(layers))

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class DenseNet(nn.Module):
    """DenseNet-121 structure (dense concatenation, bottleneck layers, transitions), 4 blocks of 2-4 layers."""

    def __init__(self, classes: int = 10, growth: int = 8, blocks=(2, 3, 4, 2)):
        super().__init__()
        stem = [nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        layers, c = stem, 16
        for index, count in enumerate(blocks):
            layers.append(DenseBlock(count, c, growth))
            c += count * growth
            if index != len(blocks) - 1:
                layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)]
                c //= 2
        self.features = nn.Sequential(*layers, nn.BatchNorm2d(c), nn.ReLU())
        self.classifier = nn.Linear(c, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class Fire(nn.Module):
    def __init__(self, c_in: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Conv2d(c_in, squeeze, 1)
        self.expand1x1, self.expand3x3 = nn.Conv2d(squeeze, expand, 1), nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1 layout (fire modules, ceil-mode max-pools, conv classifier), widths / 4."""

    def __init__(self, classes: int = 10):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2),
            nn.ReLU(),
            pool(),
            Fire(16, 4, 16),
            Fire(32, 4, 16),
            pool(),
            Fire(32, 8, 32),
            Fire(64, 8, 32),
            pool(),
            Fire(64, 12, 48),
            Fire(96, 12, 48),
            Fire(96, 16, 64),
            Fire(128, 16, 64),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(128, classes, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.stride, half = stride, c_out // 2
        if stride > 1:
            self.branch1 = nn.Sequential(conv_bn(c_in, c_in, 3, stride, groups=c_in, act=None), conv_bn(c_in, half, 1))
        source = c_in if stride > 1 else half
        self.branch2 = nn.Sequential(
            conv_bn(source, half, 1), conv_bn(half, half, 3, stride, groups=half, act=None), conv_bn(half, half, 1)
        )

    def forward(self, x):
        if self.stride == 1:
            left, right = x.chunk(2, dim=1)
            out = torch.cat((left, self.branch2(right)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, classes: int = 10, widths=(24, 48, 96), repeats=(2, 3, 2)):
        super().__init__()
        layers, c_in = [conv_bn(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1)], 24
        for width, count in zip(widths, repeats):
            layers += [ShuffleUnit(c_in if i == 0 else width, width, 2 if i == 0 else 1) for i in range(count)]
            c_in = width
        self.features = nn.Sequential(*layers, conv_bn(c_in, 128, 1))
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


class EncoderBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def attention(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(n, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    """ViT-style encoder: patch embedding conv, class token, position embedding, pre-norm blocks, head."""

    def __init__(
        self, classes: int = 10, size: int = 32, patch: int = 8, dim: int = 48, depth: int = 2, heads: int = 4
    ):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[EncoderBlock(dim, heads) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


FAMILIES = {
    "resnet18": ResNet18,
    "vgg": VGG,
    "mobilenet_v2": MobileNetV2,
    "mobilenet_v3": MobileNetV3,
    "efficientnet_b0": EfficientNetB0,
    "densenet": DenseNet,
    "squeezenet": SqueezeNet,
    "shufflenet_v2": ShuffleNetV2,
    "vit": ViT,
}


def build(family: str, seed: int = 0) -> nn.Module:
    """A family's network in eval mode with seeded random weights and non-trivial BatchNorm statistics."""
    torch.manual_seed(seed)
    model = FAMILIES[family]() if family != "resnet18" else ResNet18(10)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
    return model.eval()
