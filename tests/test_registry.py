"""The one registry: filled by discovering a package's modules (no hand lists), listed by `stitchc passes`."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import stitchc
from stitchc.cli import main
from stitchc.ir import Graph
from stitchc.passes.base import get_pass
from stitchc.passes.registry import discover, entries, names
from stitchc.passes.transform_base import get_transform

NEW_PASS_FILE = '''"""Negation removal: -(-x) becomes x.

Guarantee: exact.
"""
import stitchc


@stitchc.register_pass("drop_double_negation", guarantee="exact")
def drop_double_negation(graph):
    return False
'''

NEW_MUTATION_FILE = '''"""Zeroing: every weight becomes zero."""
import stitchc


@stitchc.register_transform("zero_everything", "mutation", "none", random=False)
def zero_everything(graph, site, params, rng):
    """Sets every weight to zero."""
    return False
'''


@pytest.fixture()
def package(tmp_path, monkeypatch):
    """A temporary package `dropped_passes` with a subpackage, importable for the test only."""
    root = tmp_path / "dropped_passes"
    (root / "more").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "more" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m.startswith("dropped_passes")]:
        del sys.modules[name]


def test_a_file_dropped_into_a_package_is_registered_without_editing_a_list(package):
    (package / "drop_double_negation.py").write_text(NEW_PASS_FILE)
    (package / "more" / "zero_everything.py").write_text(NEW_MUTATION_FILE)
    assert "drop_double_negation" not in names("pass")
    discover("dropped_passes")
    entry = {e.name: e for e in entries()}["drop_double_negation"]
    assert (entry.kind, entry.guarantee, entry.summary) == ("pass", "exact", "Negation removal: -(-x) becomes x")
    assert get_pass("drop_double_negation")(Graph()).modified is False
    assert get_transform("zero_everything").kind == "mutation"
    assert "zero_everything" in names("mutation")


def test_every_builtin_module_registers_what_it_defines():
    assert {"dce", "fold_constants", "remove_identity", "remove_dropout"} <= set(names("pass"))
    morphisms = {
        "net2wider",
        "net2deeper",
        "grow_units",
        "kernel_grow",
        "skip_add",
        "skip_concat",
        "r2r_deeper",
        "shrink",
    }
    assert set(names("morphism")) == morphisms
    assert set(names("mutation")) == {"sparse_gaussian", "gaussian", "ensemble"}


def test_a_name_of_another_kind_is_not_found_and_the_error_lists_the_kind():
    with pytest.raises(KeyError, match="no pass named 'net2wider' .known: dce, "):
        get_pass("net2wider")
    with pytest.raises(KeyError, match="no morphism or mutation named 'dce'"):
        get_transform("dce")


def test_user_transform_runs_as_a_program_step_function():
    @stitchc.register_transform("halve_first_weight", "mutation", "none", random=False)
    def halve(graph, site, params, rng):
        return True

    assert get_transform("halve_first_weight").apply(Graph(), None, {}, np.random.default_rng(0)) is True


def test_cli_lists_every_entry_with_kind_and_guarantee(capsys):
    assert main(["passes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1:3] for line in lines}
    assert rows["dce"] == ["pass", "exact"]
    assert rows["net2wider"] == ["morphism", "exact"]
    assert rows["sparse_gaussian"] == ["mutation", "none"]
    assert rows["fold_conv_bn"] == ["pass", "approximate"]  # a std.stitch rule with `ensures allclose`
