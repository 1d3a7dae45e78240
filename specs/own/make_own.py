"""Makes the "your own data and networks" example deterministically: 16×16 digits as an .npz, two trained nets.

    python specs/own/make_own.py

digits16.npz holds scikit-learn's 1,797 digits upsampled to 16×16 (`images` float32 [N, 1, 16, 16] in [0, 1],
`labels` int64); cnn.pt and sep.pt are state dicts of nets.SmallCNN and nets.SepNet trained on the first 60%
of a seeded permutation (the split the example spec declares), CPU, one thread, seeded.
"""

import os
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from nets import SepNet, SmallCNN  # noqa: E402


def digits16() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    images = torch.tensor(bunch.images[:, None] / 16.0, dtype=torch.float32)
    return torch.nn.functional.interpolate(images, size=(16, 16), mode="bilinear").numpy(), bunch.target


def train(net: torch.nn.Module, x: np.ndarray, y: np.ndarray, epochs: int = 30) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    inputs, labels = torch.tensor(x), torch.tensor(y)
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net(inputs[batch]), labels[batch]).backward()
            optimiser.step()
    return net.eval()


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y = digits16()
    np.savez_compressed(os.path.join(HERE, "digits16.npz"), images=x, labels=y.astype(np.int64))
    order = np.random.default_rng(0).permutation(len(x))
    train_part, test_part = order[: round(0.6 * len(x))], order[round(0.8 * len(x)) :]
    for cls, name in [(SmallCNN, "cnn.pt"), (SepNet, "sep.pt")]:
        net = train(cls(), x[train_part], y[train_part])
        with torch.no_grad():
            accuracy = (net(torch.tensor(x[test_part])).argmax(1).numpy() == y[test_part]).mean()
        torch.save(net.state_dict(), os.path.join(HERE, name))
        print(f"{name}: test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
