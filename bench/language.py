"""Parse + check time of the example specs (target: under 50 ms each).

Prints, per spec: parse time, check time with the parents' graphs already cached (the steady state of an
editor or a fuzzer), and the first, cold check that includes loading the ONNX parents for point validation.
"""

from __future__ import annotations

import glob
import os
import time

from stitchc.grammar.checker import check
from stitchc.grammar.parser import parse, parse_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.stitch"))) + [os.path.join(ROOT, "passes", "std.stitch")]


def _best(function, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parse("stitch 1\n", "warmup")  # builds the LALR tables once per process
    print(f"{'spec':<16} {'parse ms':>9} {'check ms':>9} {'cold check ms':>14}")
    for path in SPECS:
        start = time.perf_counter()
        check(parse_file(path))
        cold = (time.perf_counter() - start) * 1000
        module = parse_file(path)
        parse_ms = _best(lambda path=path: parse_file(path))
        check_ms = _best(lambda module=module: check(module))
        print(f"{os.path.basename(path):<16} {parse_ms:9.2f} {check_ms:9.2f} {cold:14.2f}")


if __name__ == "__main__":
    main()
