"""Shared evaluation against one ONNX Runtime session per candidate: the MNIST search, same seed, side by side.

    python bench/eval_engine.py [--generations 25] [--rounds 3] [--workers 1] [--racing 0.95] [--peak 48]
                                [--run DIR]

Compiles and fits specs/mnist.stitch once (features cached in the run folder), then runs its seeded NSGA-II
search --rounds times with each engine, every search in a fresh process (as `stitchc run` would), the two
engines alternating, first one then the other, so the machine's load drifts on both alike: every candidate
alone (one session each), and shared (population graphs, activation cache). Asserts that every search evaluated
the same candidates alike (genomes, objective values, MACs); prints each round's seconds per candidate and ratio,
their medians, and the MACs computed and their ratio. (Evaluating each batch with both engines in one process
penalised the shared engine: the sessions of the other engine churned the memory its cache had to fault in
again; 3.0x there against 3.8x in fresh processes, the same day.) With --racing C: how many of the true front
points a dry racing evaluator (deciding on the same batches, stopping nothing) would have stopped, and the time
per candidate of a search with racing. Then, in a fresh process per engine, the peak RSS while evaluating one
population of --peak random candidates.

Measured (2 cores, 25 generations, 183 distinct candidates, three rounds): 290.6 ms per candidate alone against
66.9 ms shared, 4.46x (rounds 4.24x, 4.62x, 4.46x; the same day, medians 4.79x and 4.09x, rounds 3.86x-4.89x:
the machine's speed drifts); 2,251 GMAC against 434 GMAC (5.18x); identical archives. Racing 0.95 would have
stopped 52 candidates, none of the 12 true front points, and ran at 62.3 ms per candidate (1.07x on top).
Population 48: peak RSS 736 MiB alone (7.5 s), 1,629 MiB shared (2.9 s; most of it the activation cache).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
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


def racing_effect(args, archive, shared: float) -> None:
    """How many true front points racing would have stopped (a dry run of the same search: racing decides,
    nothing is stopped), and the time per candidate of a search with racing against `shared`, the shared
    search's without."""
    from stitchc.evolve.front import pareto_front
    from stitchc.evolve.objectives import weights
    from stitchc.grammar.checker import load_program

    objectives = load_program(SPEC).searches["front"].objectives
    dry, _, _, stopped = in_fresh_process(args, "dry")
    assert dry == archive, "the dry racing run evaluated differently"
    front = {e.genome for e in pareto_front(archive, weights(objectives))}
    print(
        f"racing {args.racing}: would stop {len(stopped)} of {len(archive)} candidates; "
        f"{len(front & set(stopped))} of the {len(front)} true front points among them"
    )
    raced, seconds, stats, _ = in_fresh_process(args, "raced")
    print(
        f"racing {args.racing}: {len(raced)} candidates in {seconds:.1f} s ({1000 * seconds / len(raced):.1f} ms "
        f"each), {stats.stopped} stopped, {stats.macs_done / 1e9:.1f} GMAC computed; time per candidate "
        f"{shared / (seconds / len(raced)):.2f}x faster than shared without racing"
    )


def engine_run(run: str, engine: str, generations: int, workers: int, racing: float, out: str) -> None:
    """In this process: one seeded search evaluated by `engine` (alone: one session per candidate, no cache;
    shared: population graphs and the activation cache; raced: shared, with racing; dry: shared without cache,
    with a racing evaluator that only records what it would stop); pickles (archive, seconds, stats, genomes
    racing stopped or would have stopped) to `out`."""
    import pickle

    from stitchc.evolve.racing import Racing

    space, search, splits, metrics = mnist_search(run)
    raced = Racing(racing, apply=engine == "raced") if engine in ("raced", "dry") else None
    cache = 0 if engine in ("alone", "dry") else None  # the dry run only decides: the cache changes no decision
    archive, seconds, stats = search_once(
        space, search, splits, metrics, engine != "alone", generations, workers, raced, cache
    )
    with open(out, "wb") as handle:
        pickle.dump((archive, seconds, stats, raced.stopped if raced else []), handle)


def in_fresh_process(args, engine: str) -> tuple:
    """(archive, seconds, stats, stopped) of `engine_run` in a fresh Python process."""
    import pickle
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "result.pickle")
        options = ["--generations", str(args.generations), "--workers", str(args.workers)]
        command = [sys.executable, __file__, "--run", args.run, "--engine", engine, "--out", out, *options]
        done = subprocess.run(command + ["--racing", str(args.racing)], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the {engine} search failed:\n{done.stderr}")
        with open(out, "rb") as handle:
            return pickle.load(handle)


def side_by_side(args):
    """`args.rounds` rounds of the seeded search, each engine once per round in a fresh process, the order
    alternating between rounds (the machine's load drifts on both alike). Asserts every search evaluated the
    same candidates alike (genomes, objective values, MACs); prints each round's seconds per candidate and ratio.
    Returns (archive, seconds per engine per round, stats per engine)."""
    seconds: dict[str, list[float]] = {"alone": [], "shared": []}
    stats, reference = {}, None
    for round_ in range(args.rounds):
        for engine in ("alone", "shared") if round_ % 2 == 0 else ("shared", "alone"):
            archive, spent, stats[engine], _ = in_fresh_process(args, engine)
            reference = reference or archive
            assert archive == reference, f"the {engine} search evaluated differently"
            seconds[engine].append(spent / len(archive))
        ratio = seconds["alone"][-1] / seconds["shared"][-1]
        print(
            f"round {round_ + 1}: alone {1000 * seconds['alone'][-1]:.1f} ms per candidate, shared "
            f"{1000 * seconds['shared'][-1]:.1f} ms: {ratio:.2f}x",
            flush=True,
        )
    return reference, seconds, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="fresh-process runs of each engine")
    parser.add_argument("--run", default="/tmp/stitchc-engine")
    parser.add_argument("--peak", type=int, default=48, help="population of the peak-memory measure (0: skip)")
    parser.add_argument("--racing", type=float, default=0.95, help="confidence of the racing runs (0: skip)")
    parser.add_argument("--peak-mode", choices=["shared", "alone"], help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=["alone", "shared", "raced", "dry"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_mode:
        peak(args.run, args.peak_mode == "shared", args.peak)
        return
    if args.engine:
        engine_run(args.run, args.engine, args.generations, args.workers, args.racing, args.out)
        return
    mnist_search(args.run)  # fits once: the searches below find the features in the run folder
    archive, seconds, stats = side_by_side(args)
    ratios = sorted(a / s for a, s in zip(seconds["alone"], seconds["shared"]))
    for mode in ("alone", "shared"):
        print(
            f"{mode:6}: {len(archive)} candidates, {1000 * statistics.median(seconds[mode]):.1f} ms each (median "
            f"of {args.rounds}), {stats[mode].macs_done / 1e9:.1f} GMAC computed of "
            f"{stats[mode].macs_needed / 1e9:.1f} GMAC needed",
            flush=True,
        )
    print(
        f"time per candidate: {statistics.median(ratios):.2f}x faster shared (median of {args.rounds} rounds; "
        f"lowest {ratios[0]:.2f}x, highest {ratios[-1]:.2f}x)"
    )
    print(f"MACs computed: {stats['alone'].macs_done / stats['shared'].macs_done:.2f}x fewer shared")
    print("identical evaluations in every search (genomes, objective values, MACs): True")
    if args.racing:
        racing_effect(args, archive, statistics.median(seconds["shared"]))
    if args.peak:
        for mode in ("alone", "shared"):
            command = [sys.executable, __file__, "--run", args.run, "--peak", str(args.peak), "--peak-mode", mode]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
