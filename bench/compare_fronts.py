"""Compares two run folders field by field: front.json (every key, every genome, every objective value, exactly)
and the bytes of every exported front_NN.onnx. Prints each difference as `path: left != right`, or a summary
when there is none; exits 1 when they differ. Independent of stitchc: it reads only the files.

    python bench/compare_fronts.py RUN_DIR_A RUN_DIR_B
"""

from __future__ import annotations

import hashlib
import json
import os
import sys


def json_differences(left, right, path: str = "") -> list[str]:
    """Every place where two JSON values differ (floats compared exactly), as `path: left != right`."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = list(dict.fromkeys([*left, *right]))
        return [d for k in keys for d in json_differences(left.get(k), right.get(k), f"{path}.{k}")]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [d for i, (a, b) in enumerate(zip(left, right)) for d in json_differences(a, b, f"{path}[{i}]")]
    if type(left) is not type(right) or left != right:
        return [f"{path or '.'}: {json.dumps(left)[:80]} != {json.dumps(right)[:80]}"]
    return []


def run_differences(left_dir: str, right_dir: str) -> list[str]:
    """Differences between two run folders: front.json's fields (but `stats`, what each run cost), then each front
    point's ONNX file bytes."""
    fronts = []
    for folder in (left_dir, right_dir):
        with open(os.path.join(folder, "front.json")) as file:
            fronts.append(json.load(file))
        fronts[-1].pop("stats", None)
    differences = json_differences(*fronts)
    for point in fronts[0].get("front", []):
        digests = [_digest(os.path.join(folder, point["file"])) for folder in (left_dir, right_dir)]
        if digests[0] != digests[1]:
            differences.append(f"{point['file']}: the ONNX bytes differ")
    return differences


def _digest(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    differences = run_differences(*argv)
    for line in differences:
        print(line)
    if differences:
        return 1
    with open(os.path.join(argv[0], "front.json")) as file:
        front = json.load(file)
    print(f"same: {len(front['front'])} front points (genomes, objectives, test values, MACs, params, ONNX bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
