"""The whole genome of a search: the supernet's switch genes, then the program genes (if any)."""

from __future__ import annotations

import random

from stitchc.ir import Graph
from stitchc.stitch.decode import Genome, canonical, decode
from stitchc.stitch.supernet import Gene, Supernet

from .candidate_training import CandidateTraining
from .program_genes import ProgramGenes


class GenomeSpace:
    def __init__(
        self, supernet: Supernet, program: ProgramGenes | None = None, training: CandidateTraining | None = None
    ):
        self.supernet, self.program, self.training = supernet, program, training
        self.switch_count = len(supernet.genes)
        self.genes: list[Gene] = list(supernet.genes) + (program.genes() if program else [])

    @property
    def cardinalities(self) -> list[int]:
        return [len(g.options) for g in self.genes]

    def _pad(self, switches: tuple[int, ...]) -> Genome:
        return switches + (0,) * (len(self.genes) - self.switch_count)

    def parent_genome(self, which: int) -> Genome:
        return self._pad(self.supernet.parent_genome(which))

    def ensemble_genome(self) -> Genome:
        return self._pad(self.supernet.ensemble_genome())

    def sample(self, rng: random.Random, p_on: float = 0.1) -> Genome:
        """A sparse random genome (Guijt et al.): each switch leaves its parent, and each program step is
        used, with probability p_on; the output gene and the other program genes are uniform."""
        genome = []
        for index, gene in enumerate(self.genes):
            size = len(gene.options)
            sparse = index < self.switch_count - 1 or (self.program and self._is_step_op(index))
            if sparse:
                genome.append(rng.randrange(1, size) if size > 1 and rng.random() < p_on else 0)
            else:
                genome.append(rng.randrange(size))
        return tuple(genome)

    def _is_step_op(self, index: int) -> bool:
        offset = index - self.switch_count
        return offset >= 0 and offset % self.program.per_slot == 0

    def canonical(self, genome: Genome) -> Genome:
        genome = tuple(genome)
        switches = canonical(self.supernet, genome[: self.switch_count])
        rest = self.program.canonical(genome[self.switch_count :]) if self.program else ()
        return switches + rest

    def decode(self, genome: Genome, train: bool = True) -> tuple[Graph, list[str]]:
        """The candidate graph and the program steps that applied to it (training last, when the search trains
        and `train` is set)."""
        genome = self.canonical(genome)
        graph = decode(self.supernet, genome[: self.switch_count])
        steps = self.program.apply(graph, genome[self.switch_count :]) if self.program else []
        if self.training is not None and train:
            graph, step = self.training.apply(graph, self.supernet.graph, set(self.supernet.choices), genome)
            steps += [step] if step else []
        return graph, steps

    def switch_choices(self, genome: Genome) -> dict[str, str]:
        """Switches that leave their own parent, then the output choice."""
        genes = self.supernet.genes
        choices = {g.name: g.options[v] for g, v in zip(genes[:-1], genome) if v != 0}
        choices["output"] = genes[-1].options[genome[self.switch_count - 1]]
        return choices
