"""Spec fuzzer: mutated specs never crash `stitchc check` (exit 0 or 2, no traceback, no hang, no raw control
character on the terminal).

A mutant is an example spec with a few mutations: token edits (delete, insert, replace, swap, duplicate), deep
nesting (`[`, `(`, `{` repeated up to 5,000 times), long operator chains, control characters in names and
strings, and whole declarations that used to crash or mislead stitchc (empty or tiny splits, user files that
raise or call sys.exit at import, torch classes whose __init__ or forward raises or exits, NaN weights).

Each mutant is checked with or without `--no-exec`. The suite runs the same 300 mutants every time (derandomized: a failure reproduces). The long campaign
(`pytest -m slow tests/fuzz/test_spec_fuzz.py -s`; `STITCHC_FUZZ_MUTANTS` and `STITCHC_FUZZ_SEED` set its size
and seed, default 5,000 and 1) prints the count of mutants by outcome: ok, clean error, traceback, hang.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import random
import re
import signal
import tempfile

import numpy as np
import onnx
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

from stitchc.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = [
    os.path.join(ROOT, "specs", "digits.stitch"),
    os.path.join(ROOT, "specs", "tour.stitch"),
    os.path.join(ROOT, "passes", "std.stitch"),
]
TOKEN = re.compile(r'"[^"\n]*"|%\w+|\$\w+|\d+(?:\.\d+)?(?:e-?\d+)?|\w+|<->|->|\.\.\.?|[=!<>]=|\*\*|\S')
VOCABULARY = [
    *"{}()[],;=?|",
    "->",
    "<->",
    "%x",
    "$a",
    "...",
    "1",
    "-1",
    "1e-9",
    "0.5",
    '"x.onnx"',
    '"models/digits_small.onnx"',
    "auto",
    "rule",
    "match",
    "rewrite",
    "stitch",
    "model",
    "pipeline",
    "import",
    "use",
    "a.conv9",
    "b.fc1",
    "Conv",
    "cnov",
    "sqrt",
    "true",
    "\n",
    "",
    "\x1b[2J",  # control characters: outside strings the lexer refuses them, inside they reach messages
    '"\x1b[2J\x1b[H"',
    "na\x00me",
    '"\x07bell.onnx"',
    "\u202e",
]

EVIL_FILES = {
    "raises.py": "raise ValueError('boom at import')\n",
    "sysexit.py": "import sys\n\nsys.exit(3)\n",
    "exit_none.py": "raise SystemExit\n",
    "genexit.py": "raise GeneratorExit('odd')\n",
    "recursion.py": "def f():\n    return f()\n\n\nf()\n",
    "nets.py": """import sys

import torch


class Good(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Raises(Good):
    def forward(self, x):
        raise RuntimeError('forward is broken')


class Exits(Good):
    def forward(self, x):
        sys.exit(5)


class BadInit(Good):
    def __init__(self):
        raise KeyError('no config')
""",
    "data_fn.py": """import sys

import numpy as np


def empty():
    return np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, np.int64)


def exits():
    sys.exit(7)


def raises():
    raise OSError('disk on fire')
""",
    "metric_fn.py": "import sys\n\nsys.exit(2)\n",
}
# Whole declarations appended to a mutant (a spec that checks without them then fails on them alone)
EVIL_LINES = [
    'data e0 = npz("empty.npz")',
    'data e1 = npz("tiny.npz", split = [0.98, 0.01, 0.01])',
    'data e2 = npz("good.npz", val = "empty.npz", test = "good.npz")',
    'data e3 = npz("empty.npz", val = "good.npz", test = "good.npz")',
    'data e4 = npz("good.npz", val = "good.npz", test = "empty.npz")',
    'data e5 = python("data_fn.py:empty")',
    'data e6 = python("data_fn.py:exits")',
    'data e7 = python("data_fn.py:raises")',
    'use "raises.py"',
    'use "sysexit.py"',
    'use "exit_none.py"',
    'use "genexit.py"',
    'use "recursion.py"',
    'metric m0 = python("metric_fn.py:score")',
    'model t0 = torch("nets.py:Raises", input = f32[N, 1, 8, 8])',
    'model t1 = torch("nets.py:Exits", input = f32[N, 1, 8, 8])',
    'model t2 = torch("nets.py:BadInit", input = f32[N, 1, 8, 8])',
    'model t3 = torch("nets.py:Good", weights = "nan.pt", input = f32[N, 1, 8, 8])',
    'model o0 = onnx("nan.onnx")',
    'model o1 = onnx("\x1b[2J\x1b[Hall checks passed.onnx")',
    'data d\x1b = dataset("sklearn:digits")',
]
OUTCOMES = ("ok", "clean error", "traceback", "hang", "raw control")
# Data declarations that replace the example's `data digits = ...` (the search then fits and scores on them)
EVIL_DATA = [
    'npz("empty.npz")',
    'npz("tiny.npz", split = [0.98, 0.01, 0.01])',
    'npz("good.npz", val = "empty.npz", test = "good.npz")',
    'npz("empty.npz", val = "good.npz", test = "good.npz")',
    'npz("good.npz", val = "good.npz", test = "empty.npz")',
    'npz("good.npz", split = [0.5, 0.25, 0.25])',
    'python("data_fn.py:empty")',
    'python("data_fn.py:exits")',
]
DIGITS_DATA = re.compile(r'dataset \( "sklearn:digits" [^)]*\)')
KINDS = ["delete", "insert", "replace", "swap", "duplicate", "nest", "chain", "line", "data"]
EVIL_KINDS = ("line", "data")


def _tokens(path: str) -> list[str]:
    text = open(path, encoding="utf-8").read()
    return TOKEN.findall(re.sub(r"#[^\n]*", "", text))


def _workdir() -> str:
    """A folder holding the example parents (linked), the evil files and data the mutants name."""
    folder = tempfile.mkdtemp(prefix="stitch-fuzz-")
    os.symlink(os.path.join(ROOT, "specs", "models"), os.path.join(folder, "models"))
    for name, text in EVIL_FILES.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 40)
    np.savez(os.path.join(folder, "good.npz"), x=x, y=y)
    np.savez(os.path.join(folder, "tiny.npz"), x=x[:5], y=y[:5])
    np.savez(os.path.join(folder, "empty.npz"), x=x[:0], y=y[:0])
    torch.save({"fc.weight": torch.full((10, 64), float("nan")), "fc.bias": torch.zeros(10)}, f"{folder}/nan.pt")
    model = onnx.load(os.path.join(ROOT, "specs", "models", "digits_small.onnx"))
    first = model.graph.initializer[0]
    array = numpy_helper.to_array(first).copy()
    array.flat[0] = np.nan
    first.CopyFrom(numpy_helper.from_array(array, first.name))
    onnx.save(model, os.path.join(folder, "nan.onnx"))
    return folder


SOURCES = [_tokens(path) for path in EXAMPLES]
WORKDIR = _workdir()


def mutate(source: int, mutations, evil_only: bool = False) -> str:
    """The mutant's text: example `source` with each (kind, position, word) applied in order; `evil_only` keeps
    the example's tokens intact (every mutation becomes a `line` or `data` one) so the spec gets past the checker
    and its data and parents are loaded."""
    tokens, appended, data = list(SOURCES[source]), [], None
    for kind, position, word in mutations:
        kind = kind if not evil_only or kind in EVIL_KINDS else EVIL_KINDS[position % 2]
        index = position % len(tokens)
        if kind == "delete" and len(tokens) > 1:
            del tokens[index]
        elif kind == "insert":
            tokens.insert(index, word)
        elif kind == "replace":
            tokens[index] = word
        elif kind == "swap" and index + 1 < len(tokens):
            tokens[index], tokens[index + 1] = tokens[index + 1], tokens[index]
        elif kind == "duplicate":
            tokens.insert(index, tokens[index])
        elif kind == "nest":  # 60 .. 5,059 opening brackets, closed half of the time
            count, bracket = 60 + position % 5000, "([{"[position % 3]
            tokens[index:index] = [bracket * count, *([")]}"["([{".index(bracket)] * count] if position % 2 else [])]
        elif kind == "chain":  # `- - - 1` or `1 + 1 + ... 1`, 100 .. 3,099 long
            count = 100 + position % 3000
            tokens.insert(index, "- " * count if position % 2 else "1 + " * count)
        elif kind == "line":
            appended.append(EVIL_LINES[position % len(EVIL_LINES)])
        elif kind == "data":
            data = EVIL_DATA[position % len(EVIL_DATA)]
    text = " ".join(tokens).replace(" \n ", "\n")
    text = DIGITS_DATA.sub(lambda _: data, text) if data else text
    return "\n".join([text, *appended]) + "\n"


class Hang(Exception):
    """A mutant took longer than the fuzzer's time limit."""


def outcome(text: str, no_exec: bool = False, seconds: int = 60) -> tuple[str, str]:
    """(ok | clean error | traceback | hang | raw control, stderr) of `stitchc check [--no-exec]` on the mutant
    `text`."""
    path = os.path.join(WORKDIR, "mutant.stitch")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    err = io.StringIO()

    def expire(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["check", *(["--no-exec"] if no_exec else []), path])
    except Hang:
        return "hang", err.getvalue()
    except BaseException as error:  # noqa: BLE001 (any escape from main is a crash, SystemExit included)
        return "traceback", f"{err.getvalue()}{type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    shown = err.getvalue()
    located = re.search(r"^\S[^\n]*:\d+:\d+: error: ", shown, re.MULTILINE)
    if "Traceback" in shown or status not in (0, 2) or (status == 2 and not located):
        return "traceback", shown
    if any(not (c.isprintable() or c in "\n\t ") for c in shown):
        return "raw control", shown
    return ("ok" if status == 0 else "clean error"), shown


mutation = st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000), st.sampled_from(VOCABULARY))
MUTANTS = {
    "source": st.integers(0, len(SOURCES) - 1),
    "mutations": st.lists(mutation, min_size=1, max_size=4),
    "evil_only": st.integers(0, 9).map(lambda i: i == 0),  # 1 in 10: these load data and parents (slower)
    "no_exec": st.booleans(),
}


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**MUTANTS)
def test_mutated_specs_never_crash(source, mutations, evil_only, no_exec):
    """The same 300 mutants on every run (derandomized): a failure reproduces."""
    kind, shown = outcome(mutate(source, mutations, evil_only), no_exec)
    assert kind in ("ok", "clean error"), shown


@pytest.mark.slow
def test_long_campaign_counts_outcomes():
    """STITCHC_FUZZ_MUTANTS random mutants (seeded); prints the count by outcome; no traceback, hang or raw
    control character."""
    rng = random.Random(int(os.environ.get("STITCHC_FUZZ_SEED", "1")))
    counts, failures = collections.Counter(), []
    for _ in range(int(os.environ.get("STITCHC_FUZZ_MUTANTS", "5000"))):
        source = rng.randrange(len(SOURCES))
        mutations = [
            (rng.choice(KINDS), rng.randrange(10_001), rng.choice(VOCABULARY)) for _ in range(rng.randint(1, 4))
        ]
        evil_only, no_exec = rng.random() < 0.4, rng.random() < 0.25
        kind, shown = outcome(mutate(source, mutations, evil_only), no_exec)
        counts[kind] += 1
        if kind not in ("ok", "clean error"):
            failures.append((source, mutations, evil_only, no_exec, shown[-500:]))
    print("spec fuzz outcomes:", ", ".join(f"{k} {counts[k]}" for k in OUTCOMES))
    assert not failures, failures[:3]
