"""Growth search (AutoGrow-like): grow a network one morphism at a time while validation quality improves.

Rule: start from the parent (program empty). At step k, every program step that applies at slot k (each
morphism or mutation at each site it accepts) extends the current genome; all extensions are evaluated
together (each trained, when the search trains, then measured); the current genome moves to the best
extension by the first objective. The search stops when `patience` steps in a row have not improved the
best first objective by more than `min_gain`, or when the program's slots are full.
Guarantee: deterministic (no random draws beyond each step's seed gene, fixed at 0); every evaluation made is
in the archive the front is taken from, so the front holds the best grown candidate and the cheaper ones.
"""

from __future__ import annotations

from collections.abc import Callable

from stitchc.grammar.program import GrowthSpec
from stitchc.stitch.decode import Genome

from .genome_space import GenomeSpace
from .objectives import Evaluation


def grow(
    space: GenomeSpace,
    evaluate: Callable[[list[Genome]], list[Evaluation]],
    weights: tuple[float, ...],
    policy: GrowthSpec,
    report: Callable[[int, list[Evaluation]], None] | None = None,
) -> list[Evaluation]:
    """Runs the growth search from parent 0; returns every distinct evaluation made."""
    archive: dict[Genome, Evaluation] = {}
    current = best = _record(archive, evaluate([space.parent_genome(0)]))[0]
    if report is not None:
        report(0, list(archive.values()))
    misses = 0
    for slot in range(space.program.slots):
        extensions = [g for g in _extensions(space, current.genome, slot) if g not in archive]
        if not extensions:
            break
        current = max(_record(archive, evaluate(extensions)), key=lambda e: weights[0] * e.values[0])
        gained = weights[0] * (current.values[0] - best.values[0]) > policy.min_gain
        best, misses = (current, 0) if gained else (best, misses + 1)
        if report is not None:
            report(slot + 1, list(archive.values()))
        if misses >= policy.patience:
            break
    return list(archive.values())


def _record(archive: dict[Genome, Evaluation], evaluations: list[Evaluation]) -> list[Evaluation]:
    for evaluation in evaluations:
        archive[evaluation.genome] = evaluation
    return evaluations


def _extensions(space: GenomeSpace, genome: Genome, slot: int) -> list[Genome]:
    """The genomes that add one applying step at `slot` (every transform at every site, parameters at their
    first value, seed 0), as canonical genomes, each once."""
    program, start = space.program, space.switch_count + slot * space.program.per_slot
    steps_before = len(space.decode(genome, train=False)[1])
    found = []
    for op in range(1, len(program.transforms) + 1):
        for site in range(program.site_options):
            extended = list(genome)
            extended[start : start + 3] = [op, site, 0]
            candidate = space.canonical(tuple(extended))
            if candidate not in found and len(space.decode(candidate, train=False)[1]) > steps_before:
                found.append(candidate)
    return found
