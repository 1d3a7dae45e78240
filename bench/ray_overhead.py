"""What Ray costs against the local process pool: cluster start, executor start, and time per evaluation.

Fits the spec's supernet once, draws COUNT distinct random genomes, and evaluates them three ways, each with a
fresh evaluator (no cache): in this process; in a spawn pool of WORKERS processes; on a local Ray cluster of
WORKERS CPUs (one actor per CPU). Prints each executor's start-up (pool or actors ready to evaluate, measured
with one warm-up pair of genomes), its wall time per evaluation, and the ratios; checks the three agree.

    python bench/ray_overhead.py [--spec specs/digits.stitch] [--count 48] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(spec: str):
    """(space, evaluator factory) of the spec's first search, its stitches fitted as `stitchc run` does."""
    from stitchc.evolve.genome_space import GenomeSpace
    from stitchc.evolve.objectives import Evaluator, split_keys
    from stitchc.grammar.checker import load_program
    from stitchc.preflight import prepare
    from stitchc.run import compile_supernet

    program = load_program(spec)
    search = next(iter(program.searches.values()))
    inputs = prepare(program)
    groups = [program.stitches[name] for name in search.over]
    supernet = compile_supernet(program, search, groups, inputs.datasets, inputs.models, tempfile.mkdtemp())
    space = GenomeSpace(supernet)
    splits = {key: inputs.datasets[key[0]].split(key[1]) for key in split_keys(search.objectives)}
    return space, lambda: Evaluator(space, search.objectives, splits, program.metrics)


def timed(executor, warmup: list, genomes: list) -> tuple[float, float, list]:
    """(start-up s, wall s per evaluation, evaluations): start-up includes evaluating the warm-up genomes."""
    started = time.perf_counter()
    with executor:
        executor.map(warmup)
        ready = time.perf_counter()
        evaluations = executor.map(genomes)
        done = time.perf_counter()
    return ready - started, (done - ready) / len(genomes), evaluations


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", default=os.path.join(ROOT, "specs", "digits.stitch"))
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from stitchc.evolve.executor import Executor
    from stitchc.evolve.ray_executor import RayCluster

    space, evaluator = build(args.spec)
    rng = random.Random(0)
    genomes = list(dict.fromkeys(space.canonical(space.sample(rng, p_on=0.3)) for _ in range(20 * args.count)))
    warmup, genomes = genomes[:2], genomes[2 : 2 + args.count]
    rows = {"in-process": timed(Executor(evaluator(), 1), warmup, genomes)}
    rows[f"spawn pool x{args.workers}"] = timed(Executor(evaluator(), args.workers), warmup, genomes)
    started = time.perf_counter()
    with RayCluster(workers=args.workers) as cluster:
        cluster_start = time.perf_counter() - started
        rows[f"ray x{args.workers}"] = timed(cluster.executor(evaluator()), warmup, genomes)
        stopping = time.perf_counter()
    cluster_stop = time.perf_counter() - stopping
    print(
        f"{len(genomes)} evaluations of {os.path.basename(args.spec)}; ray local cluster start {cluster_start:.2f} s, "
        f"stop {cluster_stop:.2f} s"
    )
    base = rows["in-process"][1]
    for name, (start, per, _) in rows.items():
        print(f"{name:16s} start-up {start:6.2f} s   {1000 * per:8.2f} ms/evaluation   {base / per:5.2f}x in-process")
    pool, ray = (rows[name][1] for name in rows if name != "in-process")
    print(f"ray / pool time per evaluation: {ray / pool:.2f}")
    results = [evaluations for _, _, evaluations in rows.values()]
    assert all(r == results[0] for r in results), "the executors disagree"
    return 0


if __name__ == "__main__":
    sys.exit(main())
