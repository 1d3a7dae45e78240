"""SGD refinement of stitches on the feature MSE: the training recipe of Guijt et al.

Parents are frozen, so the stitched feature depends only on the stitch's parameters and the parents'
source feature; training every stitch on the parents' features is therefore the same optimisation as their
joint forward pass. The features of each batch are computed when it is drawn (feature_reader.py): nothing
goes to disk, and they equal a once-computed cache bit for bit, so the result does too. Recipe: AdamW (lr
1e-3, weight decay 1e-5), cosine schedule, batch 32, a few epochs of at most 16,384 samples each, loss = sum
over stitches of the MSE to the feature each replaces. Starts from the stitches' current parameters (the
closed-form fit, or zero / PyTorch's default init when `reset`).
"""

from __future__ import annotations

import numpy as np
import torch

from stitchc.ir import Graph
from stitchc.ir.device import torch_device
from stitchc.ir.samples import Samples

from .feature_cache import stitch_points_of
from .feature_reader import FeatureReader
from .fit import set_stitch
from .rows import resample_source
from .supernet import Stitch, Supernet

EPOCH_CAP = 16384


def _rows(features: torch.Tensor) -> torch.Tensor:
    return features if features.ndim == 2 else features.movedim(1, -1).reshape(-1, features.shape[1])


def _parameters(stitch: Stitch, reset: bool, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    c_out, c_in = stitch.target.channels, stitch.source.channels
    if reset:  # nn.Linear's default initialisation
        bound = 1.0 / np.sqrt(c_in)
        weight = (torch.rand(c_out, c_in, generator=generator) * 2 - 1) * bound
        bias = (torch.rand(c_out, generator=generator) * 2 - 1) * bound
    else:
        weight = torch.from_numpy(stitch.weight.const.reshape(c_out, c_in).copy())
        bias = torch.from_numpy(stitch.bias.const.copy())
    return weight.to(torch_device()).requires_grad_(), bias.to(torch_device()).requires_grad_()


def refine_stitches(
    supernet: Supernet,
    parents: dict[str, Graph],
    x: Samples | np.ndarray,
    epochs: int = 3,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    batch: int = 32,
    seed: int = 0,
    reset: bool = False,
    only: set[str] | None = None,
) -> dict[str, float]:
    """Trains all stitches (or those named in `only`) jointly on the summed feature MSE; returns each
    stitch's final MSE on `x`."""
    stitches = [s for s in supernet.stitches if only is None or s.name in only]
    if not stitches:
        return {}
    reader = FeatureReader([(parents[name], points) for name, points in stitch_points_of(stitches, parents).items()], x)
    return _train(stitches, reader, epochs, lr, weight_decay, batch, seed, reset)


def recipe(params: list[torch.Tensor], lr: float, weight_decay: float, steps: int):
    """The published optimiser: AdamW with a cosine schedule over `steps` steps."""
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return optimiser, torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(steps, 1))


def _train(
    stitches: list[Stitch],
    reader: FeatureReader,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch: int,
    seed: int,
    reset: bool,
) -> dict[str, float]:
    generator = torch.Generator().manual_seed(seed)
    params = {s.name: _parameters(s, reset, generator) for s in stitches}
    count = len(reader)
    per_epoch = min(count, EPOCH_CAP)
    optimiser, schedule = recipe(
        [p for pair in params.values() for p in pair], lr, weight_decay, epochs * ((per_epoch + batch - 1) // batch)
    )
    for _ in range(epochs):
        order = torch.randperm(count, generator=generator)[:per_epoch].numpy()
        for start in range(0, per_epoch, batch):
            features = reader(np.sort(order[start : start + batch]))  # sorted: sequential reads of the samples
            optimiser.zero_grad()
            loss = sum(_loss(s, params[s.name], features) for s in stitches)
            loss.backward()
            optimiser.step()
            schedule.step()
    with torch.no_grad():
        for stitch in stitches:
            weight, bias = (p.detach().cpu().numpy().astype(np.float64) for p in params[stitch.name])
            set_stitch(stitch, weight.T, bias)
        return _mean_losses(stitches, params, reader)


def _mean_losses(stitches: list[Stitch], params, reader: FeatureReader, chunk: int = 256) -> dict[str, float]:
    """Each stitch's feature MSE over all samples, computed chunk by chunk (one parents' pass)."""
    count, totals = len(reader), dict.fromkeys((s.name for s in stitches), 0.0)
    for start in range(0, count, chunk):
        rows = np.arange(start, min(start + chunk, count))
        features = reader(rows)
        for stitch in stitches:
            totals[stitch.name] += float(_loss(stitch, params[stitch.name], features)) * len(rows)
    return {name: total / count for name, total in totals.items()}


def _loss(stitch: Stitch, params, features: dict) -> torch.Tensor:
    source = resample_source(features[id(stitch.source.value)], stitch.resample)
    target = features[id(stitch.target.value)]
    weight, bias = params
    predicted = _rows(torch.from_numpy(np.ascontiguousarray(source)).to(weight.device)) @ weight.T + bias
    return torch.nn.functional.mse_loss(
        predicted, _rows(torch.from_numpy(np.ascontiguousarray(target)).to(weight.device))
    )
