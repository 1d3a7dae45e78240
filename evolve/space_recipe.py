"""What a worker process needs to rebuild a genome space: the supernet as ONNX bytes and flat metadata.

The IR's values and nodes link to each other, so pickling a supernet graph recurses once per node and
overflows Python's stack on real networks (resnet18 × mobilenet_v2). A recipe holds only flat values (the
ONNX bytes, gene and parent names, the output name, the program genes' declarations) and is sent once per
worker. Rebuilt without constant folding, the graph has the same nodes, attributes, types and weights in
the same order, so every genome decodes to the same computation: the same accuracy, MACs and parameters
(tests/test_executor.py compares them on random genomes, program genes included).
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from stitchc.ir import from_onnx
from stitchc.stitch.supernet import Gene, Supernet

from .candidate_training import CandidateTraining
from .genome_space import GenomeSpace
from .program_genes import ProgramGenes


@dataclass(frozen=True)
class SpaceRecipe:
    model: bytes  # the supernet graph, lowered to ONNX
    name: str
    parents: tuple[str, ...]
    genes: tuple[Gene, ...]
    output_name: str
    choices: tuple[tuple[str, tuple[int, int]], ...]
    program: ProgramGenes | None
    training: CandidateTraining | None

    @classmethod
    def of(cls, space: GenomeSpace) -> SpaceRecipe:
        supernet = space.supernet
        return cls(
            supernet.graph.to_onnx().SerializeToString(),
            supernet.graph.name,
            supernet.parents,
            tuple(supernet.genes),
            supernet.output_name,
            tuple(supernet.choices.items()),
            space.program,
            space.training,
        )

    def build(self) -> GenomeSpace:
        """The genome space, for evaluation: its supernet has the graph and genes but no stitch records (those
        only serve fitting)."""
        graph = from_onnx(onnx.load_from_string(self.model), self.name, fold=False)
        supernet = Supernet(graph, self.parents, list(self.genes), [], self.output_name, dict(self.choices))
        return GenomeSpace(supernet, self.program, self.training)  # program steps find their transforms in the registry
