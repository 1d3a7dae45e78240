"""Shared evaluation against one ONNX Runtime session per candidate: the MNIST search, same seed, side by side.

    python bench/eval_engine.py [--generations 25] [--workers 1] [--run /tmp/stitchc-engine]

Compiles and fits specs/mnist.stitch once (features cached in the run folder), then runs its NSGA-II search
twice in this process with the same seed: every candidate alone (one session each), then shared (each batch of
candidates merged into population graphs). Prints the seconds of search per candidate and the ratio, the MACs
computed and the ratio, and whether the two archives are identical (genomes, objective values, MACs). Then, in a
fresh process per mode, the peak RSS of evaluating one population of 48 random candidates. With --racing C,
also a dry run (racing decides, nothing stopped: which true front points it would have stopped) and a racing
run (its time per candidate against the shared search).
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


def search_once(space, search, splits, metrics, shared: bool, generations: int, workers: int, racing=None, cache=None):
    """(archive sorted by genome, seconds, evaluator stats) of one seeded NSGA-II run; `cache`: bytes of the
    activation cache (None: its default)."""
    from stitchc.evolve.executor import Executor
    from stitchc.evolve.nsga2 import nsga2
    from stitchc.evolve.objectives import Evaluator, weights

    options = {} if cache is None else {"cache_bytes": cache}
    evaluator = Evaluator(space, search.objectives, splits, metrics, shared=shared, racing=racing, **options)
    seeds = [space.parent_genome(i) for i in range(len(space.supernet.parents))] + [space.ensemble_genome()]
    started = time.perf_counter()
    with Executor(evaluator, workers) as executor:
        archive = nsga2(
            space.cardinalities,
            executor.map,
            search.population,
            generations,
            search.seed,
            space.sample,
            weights(search.objectives),
            seeds,
        )
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


def racing_effect(space, search, splits, metrics, args, shared, t_shared) -> None:
    """Racing's speed-up over the shared search, and how many true front points it would have stopped: a dry
    run (racing decides but does not stop) retraces the search without racing and records its decisions."""
    from stitchc.evolve.front import pareto_front
    from stitchc.evolve.objectives import weights
    from stitchc.evolve.racing import Racing

    dry = Racing(args.racing, apply=False)
    archive, _, _ = search_once(space, search, splits, metrics, True, args.generations, args.workers, dry)
    front = {e.genome for e in pareto_front(archive, weights(search.objectives))}
    lost = front & set(dry.stopped)
    print(
        f"racing {args.racing}: would stop {len(dry.stopped)} of {len(archive)} candidates; "
        f"{len(lost)} of the {len(front)} true front points among them; dry run same archive: {archive == shared}"
    )
    raced, seconds, stats = search_once(
        space, search, splits, metrics, True, args.generations, args.workers, Racing(args.racing)
    )
    print(
        f"racing {args.racing}: {len(raced)} candidates in {seconds:.1f} s ({1000 * seconds / len(raced):.1f} ms "
        f"each), {stats.stopped} stopped; time per candidate {t_shared / len(shared) / (seconds / len(raced)):.2f}x "
        f"faster than shared without racing, {stats.macs_done / 1e9:.1f} GMAC computed"
    )


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
    runs = {}
    for shared in (False, True):
        runs[shared] = search_once(space, search, splits, metrics, shared, args.generations, args.workers)
        archive, seconds, stats = runs[shared]
        mode = "shared" if shared else "alone "
        print(
            f"{mode}: {len(archive)} candidates in {seconds:.1f} s ({1000 * seconds / len(archive):.1f} ms each), "
            f"{stats.macs_done / 1e9:.1f} GMAC computed of {stats.macs_needed / 1e9:.1f} GMAC needed",
            flush=True,
        )
    (alone, t_alone, s_alone), (shared, t_shared, s_shared) = runs[False], runs[True]
    print(f"time per candidate: {t_alone / len(alone) / (t_shared / len(shared)):.2f}x faster shared")
    print(f"MACs computed: {s_alone.macs_done / s_shared.macs_done:.2f}x fewer shared")
    print(f"identical archives (genomes, objective values, MACs): {alone == shared}")
    if args.racing:
        racing_effect(space, search, splits, metrics, args, shared, t_shared)
    if args.peak:
        for mode in ("alone", "shared"):
            command = [sys.executable, __file__, "--run", args.run, "--peak", str(args.peak), "--peak-mode", mode]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
