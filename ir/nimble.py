"""Nimble growth (Radhakrishnan et al. 2025): a layer's width set by a trained size controller, through the torch
lowering.

Rule: a scalar controller c (initialised to 1e-5 · N(0, 1)) gives s = sin²(πc/2); of the layer's N_max units the
first ⌊s · N_max⌋ have mask 1, the next one the fractional remainder s · N_max − ⌊s · N_max⌋, the rest 0
(mask_i = clamp(s · N_max − i, 0, 1)). The mask multiplies the value the layer's units reach the next layer by
(`masked`: the input of that layer), and the loss is the task's (cross-entropy for integer labels, mean squared
error for real ones) plus λ(c − 1)², the term that drives growth. Full-batch Adam (AdamW without decay) trains the
weights and c together.
Guarantee: deterministic for a seed (fixed threads, seeded controller init, full batches); the graph given is
untouched: the result holds a trained copy (the mask not applied: see passes/nimble_cut.py to cut it) and the
final mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import fx, nn

from .fine_tune import AdamW, _deterministic, _loss
from .graph import Graph

LAMBDA = 0.32


class NimbleWidth(nn.Module):
    """Multiplies axis 1 of its input by the controller's mask."""

    def __init__(self, units: int, seed: int):
        super().__init__()
        self.units = units
        init = 1e-5 * torch.randn((), generator=torch.Generator().manual_seed(seed))
        self.controller = nn.Parameter(init)

    def mask(self) -> torch.Tensor:
        size = torch.sin(math.pi * self.controller / 2) ** 2 * self.units
        return torch.clamp(size - torch.arange(self.units, dtype=size.dtype), 0.0, 1.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h * self.mask().reshape(1, -1, *([1] * (h.dim() - 2)))


@dataclass
class NimbleResult:
    graph: Graph  # trained weights, at full width, without the mask
    mask: np.ndarray | None  # the final mask (None when trained without a controller)
    controller: float
    losses: list[float]  # the task loss per step


def insert_width_controller(module: fx.GraphModule, producer: str, units: int, seed: int) -> NimbleWidth:
    """Inserts a NimbleWidth after the fx node lowered from the IR node `producer`; returns it."""
    node = next(n for n in module.graph.nodes if n.meta.get("stitchc_node") == producer)
    width = NimbleWidth(units, seed)
    module.add_submodule("nimble_width", width)
    with module.graph.inserting_after(node):
        masked = module.graph.call_module("nimble_width", (node,))
    node.replace_all_uses_with(masked, delete_user_cb=lambda user: user is not masked)
    module.recompile()
    return width


def train_nimble(
    graph: Graph,
    producer: str | None,
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    lr: float = 1e-3,
    seed: int = 0,
    lam: float = LAMBDA,
) -> NimbleResult:
    """Trains every floating-point constant of `graph` full-batch on (x, y) for `steps` Adam steps; with
    `producer` (the IR node whose output the width mask multiplies; its axis 1 holds the units), the controller
    is trained with them and λ(c − 1)² is added to the loss. `producer` None trains the static network."""
    with _deterministic():
        torch.manual_seed(seed)
        module = graph.to_torch(trainable=True)
        names = {name: getattr(module, attr) for name, attr in module.stitchc_constants.items()}
        parameters = [p for p in names.values() if isinstance(p, nn.Parameter)]
        width = None
        if producer is not None:
            units = next(n for n in graph.nodes if n.name == producer).outputs[0].type.shape[1]
            width = insert_width_controller(module, producer, units, seed)
            parameters.append(width.controller)
        optimiser, losses = AdamW(parameters, 0.0), []
        inputs, labels = torch.from_numpy(x), torch.from_numpy(y)
        for _ in range(steps):
            for parameter in parameters:
                parameter.grad = None
            task = _loss(module(inputs), labels)
            loss = task if width is None else task + lam * (width.controller - 1) ** 2
            loss.backward()
            optimiser.step(lr)
            losses.append(task.item())
    trained = graph.copy()
    for name, tensor in names.items():
        if isinstance(tensor, nn.Parameter):
            trained.constants[name].const = tensor.detach().numpy().astype(trained.constants[name].const.dtype)
    mask = None if width is None else width.mask().detach().numpy()
    return NimbleResult(trained, mask, float("nan") if width is None else float(width.controller.detach()), losses)
