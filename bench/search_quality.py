"""Search quality: every algorithm × 5 seeds at equal budgets of distinct evaluations, on three search spaces.

    python bench/search_quality.py [--spaces digits mnist digits3] [--seeds 5] [--cache DIR]

Spaces: `digits` and `mnist` are the example specs (fit on fewer samples, for speed); `digits3` is a larger
space, three parents over two stitch groups (specs/digits.stitch's a <-> b, and b <-> c where c is the wide
digits CNN trained again with another seed: same architecture, so many matched pairs). Each space is fitted
once; every run shares one run store per space, so a candidate any run evaluated costs nothing to the next
(and a second bench run evaluates nothing). Runs are not checkpointed (the algorithms may have changed).

Per algorithm, over the seeds: the median and range (min..max) of the hypervolume at 25%, 50% and 100% of
the budget (the anytime hypervolume: the archive's, after that many distinct evaluations), and the number of
seeds where it beats random search of the same seed at the full budget (ties counted apart).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join(ROOT, "specs")
ALGORITHMS = ("random", "nsga2", "ga", "gomea")
POPULATION = 32
WORKERS = 2  # evaluation processes (an MNIST candidate takes ~1 s on one core)
# space: (spec file, edits to its text, budget of distinct evaluations)
SPACES = {
    "digits": ("digits.stitch", (("samples = 1024", "samples = 256"),), 60),
    "mnist": ("mnist.stitch", (("samples = 2048", "samples = 512"),), 100),
    "digits3": ("digits.stitch", (("samples = 1024", "samples = 256"),), 300),
}
THIRD = """model c = onnx("{path}")
stitch bc = b <-> c {{ fit = digits.train(samples = 256) }}
"""


def third_parent(cache: str) -> str:
    """The wide digits CNN trained with another seed (specs/models/make_parents.py's recipe), made once."""
    path = os.path.join(cache, "digits_wide_seed3.onnx")
    if os.path.exists(path):
        return path
    import torch

    sys.path.insert(0, os.path.join(SPECS, "models"))
    from make_parents import accuracy, export, train, wide

    from stitchc.data import load_dataset

    torch.manual_seed(3)
    torch.set_num_threads(1)
    data = load_dataset("sklearn:digits", (0.6, 0.2, 0.2), seed=0)
    model = train(wide(), data.train.x, data.train.y, 12, seed=4)
    print(f"third parent c: val accuracy {accuracy(model, data.val.x, data.val.y):.4f}", file=sys.stderr)
    export(model, path)
    return path


def spec_text(space: str, cache: str) -> str:
    name, edits, _ = SPACES[space]
    text = open(os.path.join(SPECS, name)).read().replace('"models/', f'"{SPECS}/models/')
    for old, new in edits:
        text = text.replace(old, new)
    if space == "digits3":
        text = text.replace(
            "search front over ab {", THIRD.format(path=third_parent(cache)) + "search front over ab, bc {"
        )
    return text


class Space:
    """A fitted search space with its evaluator, shared run store and fixed hypervolume axes."""

    def __init__(self, space: str, cache: str):
        from stitchc.evolve.executor import Executor
        from stitchc.evolve.genome_space import GenomeSpace
        from stitchc.evolve.objectives import Evaluator, split_keys
        from stitchc.evolve.reference_point import reference_axes
        from stitchc.evolve.run_store import RunStore, objectives_identity, search_identity
        from stitchc.grammar.checker import load_program
        from stitchc.preflight import prepare
        from stitchc.run import compile_supernet

        folder = os.path.join(cache, space)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "spec.stitch")
        with open(path, "w") as handle:
            handle.write(spec_text(space, cache))
        program = load_program(path)
        inputs = prepare(program)
        search = next(iter(program.searches.values()))
        groups = [program.stitches[name] for name in search.over]
        supernet = compile_supernet(program, search, groups, inputs.datasets, inputs.models, folder)
        self.space = GenomeSpace(supernet)
        splits = {key: inputs.datasets[key[0]].split(key[1]) for key in split_keys(search.objectives)}
        self.evaluator = Evaluator(self.space, search.objectives, splits, program.metrics)
        layout = [[g.name, list(g.options)] for g in self.space.genes]
        identity = search_identity(supernet.graph.to_onnx().SerializeToString(), layout)
        measured = objectives_identity(search.objectives, program.metrics, splits)
        self.store = RunStore(os.path.join(folder, "evaluations.sqlite"), identity, measured)
        self.evaluator.cache.update(self.store.load())
        self.executor = Executor(self.evaluator, WORKERS, self.store).__enter__()
        self.search = search
        self.seeds = [self.space.parent_genome(i) for i in range(len(supernet.parents))]
        self.seeds.append(self.space.ensemble_genome())
        parents = self.executor.map(self.seeds[:-1])
        self.axes = reference_axes(search.objectives, program.metrics, splits, parents, supernet.graph)

    def run(self, algorithm: str, seed: int, budget: int):
        from stitchc.evolve.algorithm import Problem
        from stitchc.evolve.algorithms import make_algorithm
        from stitchc.evolve.objectives import weights
        from stitchc.evolve.search_loop import search

        problem = Problem(
            self.space.cardinalities,
            self.space.sample,
            weights(self.search.objectives),
            POPULATION,
            self.seeds,
            self.evaluator.key,
            self.axes,
        )
        return search(make_algorithm(algorithm, budget), problem, self.executor.map, seed, budget=budget)


def at(anytime: list[tuple[int, int, float]], evaluations: int) -> float:
    """The anytime hypervolume after `evaluations` distinct evaluations."""
    return max([v for n, _, v in anytime if n <= evaluations], default=0.0)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.4f} ({min(values):.4f}..{max(values):.4f})"


def bench(space: str, seeds: int, cache: str) -> None:
    started = time.perf_counter()
    fitted = Space(space, cache)
    budget = SPACES[space][2]
    before = len(fitted.evaluator.cache)
    finals: dict[str, list[float]] = {}
    rows = []
    for algorithm in ALGORITHMS:
        curves, counts = [], []
        for seed in range(1, seeds + 1):
            result = fitted.run(algorithm, seed, budget)
            curves.append([at(result.anytime, budget * f // 100) for f in (25, 50, 100)])
            counts.append(len(result.archive))
        finals[algorithm] = [c[2] for c in curves]
        rows.append((algorithm, curves, counts))
    size = fitted.space.cardinalities
    print(
        f"\n## {space}: {len(size)} genes, budget {budget} distinct evaluations, population {POPULATION}, "
        f"{seeds} seeds; {len(fitted.evaluator.cache) - before} new evaluations "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print("| algorithm | distinct evaluated | HV @25% | HV @50% | HV @100% | beats random (ties) |")
    print("|---|---|---|---|---|---|")
    for algorithm, curves, counts in rows:
        wins = sum(a > r for a, r in zip(finals[algorithm], finals["random"]))
        ties = sum(a == r for a, r in zip(finals[algorithm], finals["random"]))
        cells = " | ".join(spread([c[i] for c in curves]) for i in range(3))
        beats = "-" if algorithm == "random" else f"{wins}/{seeds} ({ties})"
        print(f"| {algorithm} | {min(counts)}..{max(counts)} | {cells} | {beats} |")
    fitted.executor.__exit__(None, None, None)
    fitted.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spaces", nargs="+", default=list(SPACES), choices=list(SPACES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cache", default=os.path.join(ROOT, "bench", ".search_quality"))
    args = parser.parse_args()
    for space in args.spaces:
        bench(space, args.seeds, args.cache)


if __name__ == "__main__":
    main()
