"""The ONNX mutation fuzzer (onnx_mutants.py) in the suite: no traceback, hang, escape or raw control character.

Default run: a seeded slice of 150 mutants (a few seconds). Long run, 1,200 mutants with counts by outcome:
`pytest -m slow tests/fuzz/test_onnx_fuzz.py -s` (or `python tests/fuzz/onnx_mutants.py --count 1200 --seed 1`).
"""

from __future__ import annotations

import os
import subprocess
import sys

import onnx
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_mutants import (  # noqa: E402
    FAILURES,
    SECRET,
    Case,
    campaign,
    classify,
    leak,
    places,
    set_external,
    summary,
    watch_opens,
)
from onnx_seeds import seeds  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("name", sorted(seeds()))
def test_every_seed_inspects_and_converts(tmp_path, name):
    case = Case(str(tmp_path / name))
    onnx.save(seeds()[name], case.model)
    output = str(tmp_path / "out.onnx")
    assert classify(case, ["inspect", case.model], 60) == ("ok", "")
    assert classify(case, ["convert", case.model, "-o", output], 60, output) == ("ok", "")


def test_a_seeded_slice_has_no_failures(capsys):
    counts = campaign(150, seed=7)
    failures = {key: n for key, n in counts.items() if key[1] in FAILURES}
    assert sum(counts.values()) == 300 and not failures, summary(counts) + "\n" + capsys.readouterr().out


@pytest.mark.slow
def test_the_long_campaign_has_no_failures():
    """1,200 mutants in a child process capped at 8 GB of address space; prints the counts by outcome."""
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "onnx_mutants.py"), "--count", "1200", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=3000,
        preexec_fn=_cap_memory,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = result.stdout.strip().splitlines()[-2:]
    assert all(f" {outcome} 0" in row for row in rows for outcome in FAILURES), result.stdout


def _cap_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))


def test_the_oracle_sees_reads_outside_the_folder_and_leaks(tmp_path):
    """The fuzzer's escape detection itself: an open of the secret, its bytes in text, a reference in an output."""
    case = Case(str(tmp_path / "case"))
    watch = watch_opens((case.folder,))
    try:
        open(case.secret, "rb").close()
        open(case.model, "wb").close()
    finally:
        watch.active = False
    assert watch.forbidden == [os.path.realpath(case.secret)]
    assert leak("header " + SECRET.decode(), None) == "secret in printed text"
    model = seeds()["function"]
    set_external(next(t for _, t in places(model) if t.name == "scale"), "weights.bin")
    output = str(tmp_path / "out.onnx")
    onnx.save(model, output)
    assert leak("", output) == "converted model references external data"
