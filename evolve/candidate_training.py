"""Training as a program step: after its switches and program steps, every candidate is fine-tuned on a
split before it is evaluated (Net2Net, Auto-Keras: a morphed child is warm-started, then trained briefly).

Which weights train (`params`): `all` (every floating-point weight the candidate reads), `new` (the weights
the program's steps added or rewrote: arrays the supernet does not hold; none for a candidate without
steps, which is then evaluated as decoded) or `stitches` (the weights of the stitch layers it uses).
Guarantee: deterministic per candidate (stitchc.ir.fine_tune), so the evaluator, its worker processes and
the export all see the same trained candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

from stitchc.grammar.program import TrainSpec
from stitchc.ir import Graph
from stitchc.ir.errors import FineTuneError
from stitchc.ir.samples import Samples


@dataclass(frozen=True)
class CandidateTraining:
    spec: TrainSpec
    samples: Samples

    def apply(self, graph: Graph, supernet: Graph, stitch_names: set[str], genome: tuple) -> tuple[Graph, str | None]:
        """The trained candidate and the step to record (None when it has nothing to train). Raises
        FineTuneError naming the genome when training cannot run or diverges."""
        if self.spec.nimble is not None:
            from .nimble_training import nimble_train  # torch: imported only by searches that train

            return nimble_train(graph, self.samples, self.spec, genome)
        names = self.trainable(graph, supernet, stitch_names)
        if not names:
            return graph, None
        from stitchc.ir.fine_tune import Recipe, fine_tune  # torch: imported only by searches that train
        from stitchc.ir.torch_lower import TorchLoweringError

        spec = self.spec
        recipe = Recipe(spec.steps, spec.lr, spec.batch, spec.seed)
        try:
            tuned = fine_tune(graph, self.samples, names, recipe)
        except (FineTuneError, TorchLoweringError) as error:
            raise FineTuneError(f"training candidate {list(genome)}: {error}") from None
        return tuned.graph, f"train({spec.params}, steps = {spec.steps}, lr = {spec.lr:g}) on {spec.data}.{spec.split}"

    def trainable(self, graph: Graph, supernet: Graph, stitch_names: set[str]) -> set[str]:
        read = {v.name: v for node in graph.nodes for v in node.inputs if v is not None and v.is_const}
        floating = {name for name, value in read.items() if value.const.dtype.kind == "f"}
        if self.spec.params == "all":
            return floating
        if self.spec.params == "stitches":
            return {
                v.name for n in graph.nodes if n.name in stitch_names for v in n.inputs[1:] if v is not None
            } & floating
        held = {id(v.const) for v in supernet.constants.values()}
        return {name for name in floating if id(read[name].const) not in held}
