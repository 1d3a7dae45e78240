"""SGD refinement of stitches on the task loss, through the PyTorch lowering.

Each stitch is trained in the candidate that uses it alone (its target parent with this one stitch
switched in), on the cross-entropy of that candidate's output; only the stitch's weight and bias are
trainable, every parent parameter stays frozen. Same recipe as the feature refinement: AdamW, cosine
schedule, batch 32. Starts from the stitch's current (closed-form) parameters.
"""

from __future__ import annotations

import numpy as np
import torch

from stitchc.ir.device import torch_device
from stitchc.ir.samples import Samples, as_samples

from .decode import decode
from .fit import set_stitch
from .refine import recipe
from .supernet import Stitch, Supernet

EVAL_BATCH = 256


def refine_on_task(
    supernet: Supernet,
    x: Samples | np.ndarray,
    y: np.ndarray | None = None,
    epochs: int = 3,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    batch: int = 32,
    seed: int = 0,
    only: set[str] | None = None,
) -> dict[str, float]:
    """Trains each stitch (or those named in `only`) on the task loss; returns its final mean loss on `x`
    (Samples, read one mini-batch at a time, or inputs with their labels `y`)."""
    data = as_samples(x, y)
    losses = {}
    for stitch in supernet.stitches:
        if only is None or stitch.name in only:
            losses[stitch.name] = _train(supernet, stitch, data, epochs, lr, weight_decay, batch, seed)
    return losses


def _train(
    supernet: Supernet,
    stitch: Stitch,
    data: Samples,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch: int,
    seed: int,
) -> float:
    candidate = decode(supernet, supernet.stitch_genome(stitch))
    names = (stitch.weight.name, stitch.bias.name)
    device = torch_device()
    module = candidate.to_torch(trainable=set(names)).to(device)
    weight, bias = (getattr(module, module.stitchc_constants[n]) for n in names)
    optimiser, schedule = recipe([weight, bias], lr, weight_decay, epochs * ((len(data) + batch - 1) // batch))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for index in torch.randperm(len(data), generator=generator).split(batch):
            inputs, labels = (torch.from_numpy(a).to(device) for a in data.read(index.numpy()))
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(module(inputs), labels).backward()
            optimiser.step()
            schedule.step()
    with torch.no_grad():
        set_stitch(
            stitch,
            weight.detach().cpu().double().numpy().reshape(weight.shape[0], -1).T,
            bias.detach().cpu().double().numpy(),
        )
        total = sum(
            float(
                torch.nn.functional.cross_entropy(
                    module(torch.from_numpy(x).to(device)), torch.from_numpy(y).to(device), reduction="sum"
                )
            )
            for x, y in data.batches(EVAL_BATCH)
        )
        return total / len(data)
