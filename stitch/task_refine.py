"""SGD refinement of stitches on the task loss, through the PyTorch lowering.

Each stitch is trained in the candidate that uses it alone (its target parent with this one stitch
switched in), on the cross-entropy of that candidate's output; only the stitch's weight and bias are
trainable, every parent parameter stays frozen. Same recipe as the feature refinement: AdamW, cosine
schedule, batch 32. Starts from the stitch's current (closed-form) parameters.
"""

from __future__ import annotations

import numpy as np
import torch

from .decode import decode

from .fit import set_stitch
from .refine import recipe
from .supernet import Stitch, Supernet


def refine_on_task(
    supernet: Supernet,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = 3,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    batch: int = 32,
    seed: int = 0,
    only: set[str] | None = None,
) -> dict[str, float]:
    """Trains each stitch (or those named in `only`) on the task loss; returns its final mean loss on `x`."""
    losses = {}
    for stitch in supernet.stitches:
        if only is None or stitch.name in only:
            losses[stitch.name] = _train(supernet, stitch, x, y, epochs, lr, weight_decay, batch, seed)
    return losses


def _train(
    supernet: Supernet,
    stitch: Stitch,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch: int,
    seed: int,
) -> float:
    candidate = decode(supernet, supernet.stitch_genome(stitch))
    names = (stitch.weight.name, stitch.bias.name)
    module = candidate.to_torch(trainable=set(names))
    weight, bias = (getattr(module, module.stitchc_constants[n]) for n in names)
    optimiser, schedule = recipe([weight, bias], lr, weight_decay, epochs * ((len(x) + batch - 1) // batch))
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(epochs):
        for index in torch.randperm(len(x), generator=generator).split(batch):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(module(inputs[index]), labels[index]).backward()
            optimiser.step()
            schedule.step()
    with torch.no_grad():
        set_stitch(
            stitch, weight.detach().double().numpy().reshape(weight.shape[0], -1).T, bias.detach().double().numpy()
        )
        return float(torch.nn.functional.cross_entropy(module(inputs), labels))
