"""Shared evaluation against one ONNX Runtime session per candidate: the MNIST search, same seed, side by side.

    python bench/eval_engine.py [--generations 25] [--workers 1] [--racing 0.95] [--peak 48] [--run DIR]

Compiles and fits specs/mnist.stitch once (features cached in the run folder), then runs its seeded NSGA-II
search once, evaluating every batch with both engines in alternating order (the machine's load drifts on both
alike): every candidate alone (one session each), and shared (population graphs, activation cache). Asserts
batch by batch that both give the same evaluations (genomes, objective values, MACs); prints the seconds per
candidate of each and the ratio, and the MACs computed and the ratio. With --racing C: how many of the true front
points a dry racing evaluator (deciding on the same batches, stopping nothing) would have stopped, and the time
per candidate of a search with racing. Then, in a fresh process per engine, the peak RSS while evaluating one
population of --peak random candidates.

Measured (2 cores, 25 generations, 183 distinct candidates): 259 ms per candidate alone against 63.9 ms shared
(4.06x; later runs as the machine aged: 3.89x, 3.58x, 3.55x), 2,251 GMAC against 481 GMAC (4.68x), identical
evaluations; racing 0.95 would have stopped 52 candidates, none of the 12 true front points, and ran at 54.2 ms per
candidate (1.18x on top); population 48: peak RSS 738 MiB alone, 1,469 MiB shared (most of it the activation
cache).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "specs", "mnist.stitch")


def mnist_search(run: str):
    """(genome space, search spec, splits, metrics) of specs/mnist.stitch, its supernet fitted."""
    from stitchc.evolve.genome_space import GenomeSpace
    from stitchc.evolve.objectives import split_keys
    from stitchc.grammar.checker import load_program
    from stitchc.preflight import prepare
    from stitchc.run import compile_supernet

    program = load_program(SPEC)
    search = program.searches["front"]
    inputs = prepare(program)
    groups = [program.stitches[name] for name in search.over]
    supernet = compile_supernet(program, search, groups, inputs.datasets, inputs.models, run)
    splits = {key: inputs.datasets[key[0]].split(key[1]) for key in split_keys(search.objectives)}
    return GenomeSpace(supernet), search, splits, program.metrics


def seeded_nsga2(space, search, evaluate, generations: int):
    """The spec's NSGA-II for `generations` generations, seeded with the parents and their ensemble."""
    from stitchc.evolve.nsga2 import nsga2
    from stitchc.evolve.objectives import weights

    seeds = [space.parent_genome(i) for i in range(len(space.supernet.parents))] + [space.ensemble_genome()]
    return nsga2(
        space.cardinalities,
        evaluate,
        search.population,
        generations,
        search.seed,
        space.sample,
        weights(search.objectives),
        seeds,
    )


def search_once(space, search, splits, metrics, shared: bool, generations: int, workers: int, racing=None, cache=None):
    """(archive sorted by genome, seconds, evaluator stats) of one seeded NSGA-II run; `cache`: bytes of the
    activation cache (None: its default)."""
    from stitchc.evolve.executor import Executor
    from stitchc.evolve.objectives import Evaluator

    options = {} if cache is None else {"cache_bytes": cache}
    evaluator = Evaluator(space, search.objectives, splits, metrics, shared=shared, racing=racing, **options)
    started = time.perf_counter()
    with Executor(evaluator, workers) as executor:
        archive = seeded_nsga2(space, search, executor.map, generations)
    seconds = time.perf_counter() - started
    return sorted(archive, key=lambda e: e.genome), seconds, evaluator.stats


def peak(run: str, shared: bool, population: int) -> None:
    """In this process: RSS before and after evaluating `population` random genomes of the MNIST space."""
    from stitchc.evolve.executor import Executor
    from stitchc.evolve.objectives import Evaluator

    space, search, splits, metrics = mnist_search(run)
    rng = random.Random(7)
    genomes = [space.sample(rng) for _ in range(population)]
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets the peak (VmHWM) to the current RSS: fitting's peak is not counted
    before = _status_mib("VmRSS")
    started = time.perf_counter()
    with Executor(Evaluator(space, search.objectives, splits, metrics, shared=shared)) as executor:
        executor.map(genomes)
    seconds = time.perf_counter() - started
    mode = "shared" if shared else "alone "
    print(
        f"{mode} population {population}: RSS {before:.0f} MiB before, peak {_status_mib('VmHWM'):.0f} MiB during "
        f"the evaluation ({seconds:.1f} s)"
    )


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def racing_effect(space, search, splits, metrics, args, archive, shared_seconds: float, stopped) -> None:
    """How many true front points racing would have stopped (from the dry run of the side-by-side search), and
    the time per candidate of a search with racing against the shared search without."""
    from stitchc.evolve.front import pareto_front
    from stitchc.evolve.objectives import weights
    from stitchc.evolve.racing import Racing

    front = {e.genome for e in pareto_front(archive, weights(search.objectives))}
    lost = front & set(stopped)
    print(
        f"racing {args.racing}: would stop {len(stopped)} of {len(archive)} candidates; "
        f"{len(lost)} of the {len(front)} true front points among them"
    )
    raced, seconds, stats = search_once(
        space, search, splits, metrics, True, args.generations, args.workers, Racing(args.racing)
    )
    print(
        f"racing {args.racing}: {len(raced)} candidates in {seconds:.1f} s ({1000 * seconds / len(raced):.1f} ms "
        f"each), {stats.stopped} stopped, {stats.macs_done / 1e9:.1f} GMAC computed; time per candidate "
        f"{shared_seconds / len(archive) / (seconds / len(raced)):.2f}x faster than shared without racing"
    )


def side_by_side(space, search, splits, metrics, generations: int, workers: int, racing: float):
    """One seeded NSGA-II search whose every batch is evaluated by both engines, in alternating order (so the
    machine's load drifts on both alike), and by a dry racing evaluator (racing decides, nothing is stopped).
    Returns (archive, seconds per engine, stats per engine, the dry run's would-be stopped genomes)."""
    from stitchc.evolve.activation_cache import BUDGET_BYTES
    from stitchc.evolve.executor import Executor
    from stitchc.evolve.objectives import Evaluator
    from stitchc.evolve.racing import Racing

    dry = Racing(racing or 0.95, apply=False)
    evaluators = {
        mode: Evaluator(space, search.objectives, splits, metrics, shared=mode != "alone", racing=r, cache_bytes=c)
        for mode, r, c in (("alone", None, 0), ("shared", None, BUDGET_BYTES), ("dry", dry, 0))
    }  # the dry run only decides (the cache changes no decision): its memory would slow the others
    seconds = {"alone": 0.0, "shared": 0.0}
    calls = []
    with Executor(evaluators["alone"], workers) as alone, Executor(evaluators["shared"], workers) as shared:
        executors = {"alone": alone, "shared": shared}

        def evaluate(genomes):
            calls.append(len(genomes))
            order = ("alone", "shared") if len(calls) % 2 else ("shared", "alone")
            results = {}
            for mode in order:
                started = time.perf_counter()
                results[mode] = executors[mode].map(genomes)
                seconds[mode] += time.perf_counter() - started
            assert results["alone"] == results["shared"], "shared evaluation differs from evaluation alone"
            if racing:
                assert Executor(evaluators["dry"]).map(genomes) == results["shared"]
            return results["shared"]

        archive = seeded_nsga2(space, search, evaluate, generations)
    stats = {mode: evaluators[mode].stats for mode in seconds}
    return sorted(archive, key=lambda e: e.genome), seconds, stats, dry.stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--run", default="/tmp/stitchc-engine")
    parser.add_argument("--peak", type=int, default=48, help="population of the peak-memory measure (0: skip)")
    parser.add_argument("--racing", type=float, default=0.95, help="confidence of the racing runs (0: skip)")
    parser.add_argument("--peak-mode", choices=["shared", "alone"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_mode:
        peak(args.run, args.peak_mode == "shared", args.peak)
        return
    space, search, splits, metrics = mnist_search(args.run)
    archive, seconds, stats, stopped = side_by_side(
        space, search, splits, metrics, args.generations, args.workers, args.racing
    )
    for mode in ("alone", "shared"):
        print(
            f"{mode:6}: {len(archive)} candidates in {seconds[mode]:.1f} s "
            f"({1000 * seconds[mode] / len(archive):.1f} ms each), {stats[mode].macs_done / 1e9:.1f} GMAC computed "
            f"of {stats[mode].macs_needed / 1e9:.1f} GMAC needed",
            flush=True,
        )
    print(f"time per candidate: {seconds['alone'] / seconds['shared']:.2f}x faster shared (batches alternated)")
    print(f"MACs computed: {stats['alone'].macs_done / stats['shared'].macs_done:.2f}x fewer shared")
    print("identical evaluations, batch by batch (genomes, objective values, MACs): True")
    if args.racing:
        racing_effect(space, search, splits, metrics, args, archive, seconds["shared"], stopped)
    if args.peak:
        for mode in ("alone", "shared"):
            command = [sys.executable, __file__, "--run", args.run, "--peak", str(args.peak), "--peak-mode", mode]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
