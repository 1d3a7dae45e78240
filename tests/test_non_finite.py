"""NaN or Inf in a candidate's outputs is an error naming the candidate, never a score (issue 10, finding 3)."""

from __future__ import annotations

import numpy as np
import pytest

from stitchc.evolve.objectives import Evaluator
from stitchc.grammar.checker import load_program
from stitchc.ir.errors import NonFiniteOutput
from stitchc.ir.runtime import predict
from stitchc.ir.samples import as_samples


def test_a_candidate_with_nan_outputs_is_an_error_naming_it(program_space, digits):
    space, path = program_space()
    evaluate = Evaluator(space, load_program(path).searches["front"].objectives, {("digits", "val"): digits.val})
    stitch = space.supernet.stitches[0]
    genome = list(space.parent_genome(0 if stitch.plan.target_parent == "a" else 1))
    gene, option = space.supernet.choices[stitch.name]
    genome[gene] = option
    healthy = evaluate(space.parent_genome(0))
    assert all(np.isfinite(healthy.values))
    stitch.weight.const = np.full_like(stitch.weight.const, np.nan)
    key = evaluate.key(tuple(genome))
    with pytest.raises(NonFiniteOutput) as raised:
        evaluate(tuple(genome))
    graph = space.decode(key)[0]
    assert str(raised.value) == (
        f"candidate {list(key)}: model '{graph.name}' gives NaN or Inf outputs on {len(digits.val.y)} of "
        f"{len(digits.val.y)} samples"
    )


def test_inf_in_some_samples_is_counted(parents, digits):
    graph = parents[0].copy()
    x = digits.val.x[:10].copy()
    x[3] = np.inf
    with pytest.raises(NonFiniteOutput, match=r"gives NaN or Inf outputs on 1 of 10 samples"):
        predict(graph, as_samples(x, digits.val.y[:10]))
