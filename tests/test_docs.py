"""Every fenced ```stitch block of docs/language.md parses and checks (as a file in specs/)."""

from __future__ import annotations

import os
import re

import pytest

from stitchc.grammar.checker import check
from stitchc.grammar.parser import parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = open(os.path.join(ROOT, "docs", "language.md"), encoding="utf-8").read()
BLOCKS = re.findall(r"```stitch\n(.*?)```", DOC, re.S)


def test_the_reference_has_examples():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_checks(index):
    check(parse(BLOCKS[index], os.path.join(ROOT, "specs", f"doc{index}.stitch")))
