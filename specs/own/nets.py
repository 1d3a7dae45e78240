"""Two small classifiers of 16×16 grey digits, written as a user of stitchc would write their own."""

import torch
from torch import nn


class SmallCNN(nn.Module):
    """Two 3×3 convolutions with max pooling and a linear head."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


class SepNet(nn.Module):
    """Depthwise-separable convolutions, wider, with global average pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 24, 3, padding=1)
        self.depthwise = nn.Conv2d(24, 24, 3, padding=1, groups=24)
        self.pointwise = nn.Conv2d(24, 48, 1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Conv2d(48, 64, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.stem(x)))
        x = self.pool(torch.relu(self.pointwise(torch.relu(self.depthwise(x)))))
        x = torch.relu(self.head(x))
        return self.fc(x.mean(dim=(2, 3)))
