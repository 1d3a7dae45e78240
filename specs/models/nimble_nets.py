"""The starting network of specs/nimble.stitch: an MLP whose hidden layer may grow to 128 units (Nimble), seeded."""

import torch
from torch import nn


class WideMLP(nn.Module):
    def __init__(self, hidden: int = 128):
        super().__init__()
        torch.manual_seed(0)  # the random initialisation is the spec's starting point: fix it
        self.hidden = nn.Linear(28 * 28, hidden)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(torch.flatten(x, 1))))
