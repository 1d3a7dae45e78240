"""Nimble training as a search's `train` step: `train = DATA.SPLIT(steps, lr, seed, nimble = Gemm | Conv)`.

Rule: the first layer of that op whose units reach one fan-in layer (passes/nimble_cut.py) gets a width controller
(ir/nimble.py); every floating-point weight and the controller train full-batch on the split for `steps` Adam steps
at `lr`; the layer is then cut to its active width, the mask folded into the next layer. The candidate evaluated
and exported is the cut network.
Guarantee: deterministic per candidate (seeded controller, full batches, fixed threads), so workers, reruns and the
export see the same network; the cut network computes what the masked one did.
"""

from __future__ import annotations

import numpy as np

from stitchc.grammar.program import TrainSpec
from stitchc.ir import Graph
from stitchc.ir.errors import FineTuneError
from stitchc.ir.samples import Samples
from stitchc.passes.nimble_cut import cut_to_width, mask_producer


def nimble_train(graph: Graph, samples: Samples, spec: TrainSpec, genome: tuple) -> tuple[Graph, str]:
    """The trained and cut candidate and the step to record. Raises FineTuneError naming the genome when no layer
    fits or training diverges."""
    from stitchc.ir.nimble import train_nimble

    site = next((n for n in graph.nodes if n.op == spec.nimble and mask_producer(graph, n) is not None), None)
    if site is None:
        raise FineTuneError(f"training candidate {list(genome)}: no {spec.nimble} layer whose units reach one layer")
    x, y = samples.read(np.arange(len(samples)))
    result = train_nimble(graph, mask_producer(graph, site).name, x, y, spec.steps, spec.lr, spec.seed)
    if not np.isfinite(result.losses[-1]):
        raise FineTuneError(f"training candidate {list(genome)}: diverged; lower the learning rate")
    cut = result.graph
    units = site.outputs[0].type.shape[1]
    width = cut_to_width(cut, cut.nodes[graph.nodes.index(site)], result.mask)
    step = f"nimble({site.name}: {units} -> {width} units, steps = {spec.steps}, lr = {spec.lr:g}) on {spec.data}.{spec.split}"
    return cut, step
