"""Fine-tuning a graph through its PyTorch lowering: a fixed number of seeded optimiser steps on a sample set.

The loss is the cross-entropy of the graph's first output when the labels are integers (classification), the
mean squared error when they are floating point (regression). The optimiser is AdamW with a cosine schedule
over the steps; mini-batches are drawn from a seeded permutation, one epoch after another.
Guarantee: deterministic: the same graph, samples, constants to train and recipe give the same trained
weights bit for bit on one machine (torch's deterministic algorithms, one intra-op thread, a seeded sampler;
the global settings are restored afterwards). The graph given is untouched: the result is a copy whose
trained constants hold new arrays.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .errors import FineTuneError
from .graph import Graph
from .samples import Samples


@dataclass(frozen=True)
class Recipe:
    steps: int
    lr: float
    batch: int = 64
    seed: int = 0
    weight_decay: float = 0.0


@dataclass(frozen=True)
class Tuned:
    graph: Graph
    loss: float  # the mean loss over the last tenth of the steps (at least one)
    seconds: float


def fine_tune(graph: Graph, samples: Samples, trainable: set[str], recipe: Recipe) -> Tuned:
    """Trains the constants named in `trainable` that some node reads (the others stay fixed) for `recipe.steps`
    steps."""
    started = time.perf_counter()
    if not trainable or recipe.steps == 0:
        return Tuned(graph, float("nan"), 0.0)
    if len(samples) == 0:
        raise FineTuneError(f"graph {graph.name}: no samples to train on")
    with _deterministic():
        module = graph.to_torch(trainable=trainable)
        used = sorted(set(trainable) & set(module.stitchc_constants))  # a constant no node reads has no gradient
        parameters = {name: getattr(module, module.stitchc_constants[name]) for name in used}
        losses = _train(module, list(parameters.values()), samples, recipe)
    tail = losses[-max(1, len(losses) // 10) :]
    loss = float(np.mean(tail))
    if not np.isfinite(loss):
        raise FineTuneError(f"graph {graph.name}: training diverged (loss {loss}); lower the learning rate")
    tuned = graph.copy()
    tuned.trained_steps += recipe.steps
    for name, parameter in parameters.items():
        value = tuned.constants[name]
        value.const = parameter.detach().numpy().astype(value.const.dtype, copy=True)
    return Tuned(tuned, loss, time.perf_counter() - started)


def _train(module: torch.nn.Module, parameters: list, samples: Samples, recipe: Recipe) -> list[float]:
    optimiser = AdamW(parameters, recipe.weight_decay)
    generator = torch.Generator().manual_seed(recipe.seed)
    batches, losses = _batches(len(samples), recipe.batch, generator), []
    for step in range(recipe.steps):
        inputs, labels = (torch.from_numpy(np.ascontiguousarray(a)) for a in samples.read(next(batches)))
        output = module(inputs)
        output = output[0] if isinstance(output, tuple) else output
        for parameter in parameters:
            parameter.grad = None
        loss = _loss(output, labels)
        loss.backward()
        optimiser.step(recipe.lr * (1 + math.cos(math.pi * step / recipe.steps)) / 2)  # cosine schedule
        losses.append(loss.item())
    return losses


class AdamW:
    """AdamW (Loshchilov & Hutter) with torch's defaults (β = 0.9, 0.999; ε = 1e-8), written out because
    constructing any torch.optim optimiser imports torch._dynamo: 4.6 s in every process that trains."""

    def __init__(self, parameters: list, weight_decay: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.parameters, self.weight_decay, self.betas, self.eps = parameters, weight_decay, betas, eps
        self.moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in parameters]
        self.steps = 0

    @torch.no_grad()
    def step(self, lr: float) -> None:
        self.steps += 1
        (beta1, beta2), count = self.betas, self.steps
        for parameter, (mean, square) in zip(self.parameters, self.moments):
            if parameter.grad is None:
                continue
            parameter.mul_(1 - lr * self.weight_decay)
            mean.lerp_(parameter.grad, 1 - beta1)
            square.mul_(beta2).addcmul_(parameter.grad, parameter.grad, value=1 - beta2)
            denominator = (square / (1 - beta2**count)).sqrt_().add_(self.eps)
            parameter.addcdiv_(mean, denominator, value=-lr / (1 - beta1**count))


def _loss(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if labels.dtype.is_floating_point:
        if output.numel() != labels.numel():
            raise FineTuneError(f"output {tuple(output.shape)} does not match regression targets {tuple(labels.shape)}")
        return torch.nn.functional.mse_loss(output.reshape(labels.shape), labels.to(output.dtype))
    return torch.nn.functional.cross_entropy(output, labels.long())


def _batches(count: int, size: int, generator: torch.Generator):
    """Sorted row indices of mini-batches of one seeded permutation after another (sorted: readers of files
    read forwards)."""
    while True:
        for rows in torch.randperm(count, generator=generator).split(min(size, count)):
            yield np.sort(rows.numpy())


@contextlib.contextmanager
def _deterministic():
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
