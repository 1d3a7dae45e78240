"""SGD refinement: the feature recipe lowers the feature MSE from a random start; task refinement lowers the
candidate's cross-entropy and trains only the stitch."""

from __future__ import annotations

import numpy as np
import torch

from stitchc.stitch.decode import decode
from stitchc.stitch.fit import fit_supernet
from stitchc.stitch.refine import refine_stitches
from stitchc.stitch.supernet import auto_supernet
from stitchc.stitch.task_refine import refine_on_task


def _cross_entropy(graph, x, y) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(graph.to_torch()(torch.from_numpy(x)), torch.from_numpy(y)))


def test_feature_recipe_reduces_mse_from_default_init(parents, digits):
    graphs = dict(zip("ab", parents))
    one_epoch, three_epochs = auto_supernet(graphs), auto_supernet(graphs)
    x = digits.train.x[:256]
    short = refine_stitches(one_epoch, graphs, x, epochs=1, reset=True)
    longer = refine_stitches(three_epochs, graphs, x, epochs=3, reset=True)
    assert np.mean(list(longer.values())) < np.mean(list(short.values()))


def test_task_refinement_lowers_the_loss_and_touches_only_the_stitch(parents, digits, tmp_path):
    graphs = dict(zip("ab", parents))
    supernet = auto_supernet(graphs)
    x, y = digits.train.x[:256], digits.train.y[:256]
    fit_supernet(supernet, graphs, x)
    stitch = max(supernet.stitches, key=lambda s: s.source.channels)  # one with the most to learn
    genome = supernet.stitch_genome(stitch)
    before = _cross_entropy(decode(supernet, genome), x, y)
    frozen = {
        v.name: v.const for v in supernet.graph.constants.values() if v is not stitch.weight and v is not stitch.bias
    }
    losses = refine_on_task(supernet, x, y, epochs=2, only={stitch.name})
    assert losses[stitch.name] < before
    assert np.isclose(_cross_entropy(decode(supernet, genome), x, y), losses[stitch.name], rtol=1e-4)
    assert all(supernet.graph.constants[name].const is array for name, array in frozen.items())


def test_nothing_to_refine_is_a_no_op(parents, digits):
    graphs = dict(zip("ab", parents))
    assert refine_stitches(auto_supernet(graphs), graphs, digits.train.x[:32], only=set()) == {}
