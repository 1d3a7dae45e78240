"""Property: random token mutations of the example specs never crash `stitchc check` (exit 0 or 2, no traceback)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stitchc.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = [
    os.path.join(ROOT, "specs", "digits.stitch"),
    os.path.join(ROOT, "specs", "tour.stitch"),
    os.path.join(ROOT, "passes", "std.stitch"),
]
TOKEN = re.compile(r'"[^"\n]*"|%\w+|\$\w+|\d+(?:\.\d+)?(?:e-?\d+)?|\w+|<->|->|\.\.\.?|[=!<>]=|\*\*|\S')
VOCABULARY = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "=",
    "->",
    "<->",
    "%x",
    "$a",
    "...",
    "?",
    "|",
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
]


def _tokens(path: str) -> tuple[list[str], str]:
    text = open(path, encoding="utf-8").read()
    return TOKEN.findall(re.sub(r"#[^\n]*", "", text)), os.path.dirname(path)


SOURCES = [_tokens(path) for path in EXAMPLES]
WORKDIR = tempfile.mkdtemp(prefix="stitch-fuzz-")
os.symlink(os.path.join(ROOT, "specs", "models"), os.path.join(WORKDIR, "models"))

mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "swap", "duplicate"]),
    st.integers(0, 10_000),
    st.sampled_from(VOCABULARY),
)


MUTANTS = {"source": st.integers(0, len(SOURCES) - 1), "mutations": st.lists(mutation, min_size=1, max_size=4)}


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**MUTANTS)
def test_mutated_specs_never_crash(source, mutations):
    """The same 300 mutants on every run (derandomized): a failure reproduces."""
    _check_mutant(source, mutations)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**MUTANTS)
def test_mutated_specs_never_crash_long_random_campaign(source, mutations):
    _check_mutant(source, mutations)


def _check_mutant(source, mutations):
    tokens = list(SOURCES[source][0])
    for kind, position, word in mutations:
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
    path = os.path.join(WORKDIR, "mutant.stitch")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(" ".join(tokens).replace(" \n ", "\n"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["check", path])
    assert status in (0, 2)
    assert "Traceback" not in err.getvalue()
    if status == 2:
        assert err.getvalue().startswith(path + ":")
