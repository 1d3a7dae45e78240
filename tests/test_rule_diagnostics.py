"""Rule errors, PDLL style: the corpus below carries its expected diagnostics as comments.

`# expected-error {{message}}` expects a diagnostic with exactly that message on the comment's line
(`expected-error@+N` / `@-N`: N lines below / above). The checker must report every expected diagnostic
and nothing else.
"""

from __future__ import annotations

import re

import pytest

from stitchc.grammar.checker import Checker
from stitchc.grammar.diagnostics import SpecError
from stitchc.grammar.parser import parse

CORPUS = """stitch 1

rule unbound_value {
    match   { %y = Relu(%x) }
    rewrite { %y = Neg(%q) }  # expected-error {{unbound value '%q' in rule 'unbound_value'}}
}

rule two_roots {  # expected-error {{the match of rule 'two_roots' needs exactly one root (a statement whose result the pattern does not use); found %a, %b}}
    match   { %a = Relu(%x) %b = Tanh(%x) }
    rewrite { %a = %x }
}

rule island {
    match   { %y = Relu(%x)
              %p = Neg(%q)  # expected-error {{this match statement is not connected to the pattern root}}
              %q = Neg(%p) }  # expected-error {{this match statement is not connected to the pattern root}}
    rewrite { %y = %x }
}

rule sets_an_unnamed_input {
    match   { %y = Conv(%x, %w) {...} }
    compute { b = 0; }
    # expected-error@+1 {{`...` keeps the inputs of the matched Conv that the match does not name, but the rewrite sets input 2}}
    rewrite { %y = Conv(%x, %w, b) {...} }
}

rule names_it {
    match   { %y = Conv(%x, %w, %b?) {...} }
    compute { b2 = 0; }
    rewrite { %y = Conv(%x, %w, b2) {...} }
}

rule strict_may_set_it {
    match strict { %y = Conv(%x, %w) {...} }
    compute      { b = 0; }
    rewrite      { %y = Conv(%x, %w, b) {...} }
}

rule copies_nothing {
    match   { %y = Relu(%x) }
    rewrite { %y = Neg(%x) {...} }  # expected-error {{`...` copies the attributes of the matched Neg, but the match has no Neg}}
}

rule class_in_rewrite {
    match   { %y = Relu(%x) }
    rewrite { %y = activation(%x) }  # expected-error {{a rewrite creates one concrete op, not the op class 'activation'}}
}

rule computed_attribute {
    match   { %y = LeakyRelu(%x) {alpha: %x} }  # expected-error {{attribute 'alpha' in a match is a $binding or a literal}}
    rewrite { %y = Relu(%x) }
}

rule redefines_input {  # expected-error {{the rewrite of rule 'redefines_input' must define %y (the result of the match root)}}
    match   { %y = Relu(%x) }
    rewrite { %x = Neg(%x) }  # expected-error {{'%x' is an input of the match and cannot be redefined}}
}

rule computes_twice {
    match   { %y = Mul(%x, %s) }
    compute { k = %s; k = %s * 2; }  # expected-error {{'k' is already defined}}
    rewrite { %y = Mul(%x, k) }
}

rule bad_calls {
    match   { %y = Mul(%x, %s) }
    where   { rank(%s, %x) == 1;  # expected-error {{rank() takes 1 argument, got 2}}
              sqr(%s) > 0;  # expected-error {{unknown function 'sqr'}}
              single_use(1); }  # expected-error {{single_use() takes %values}}
    rewrite { %y = %x }
}

rule bad_ensures {
    match   { %y = Relu(%x) }
    rewrite { %y = Identity(%x) }
    ensures allclose(rtol = 1e-3);  # expected-error {{unknown argument of allclose() 'rtol'}}
}
"""
EXPECTED = re.compile(r"expected-error(?:@([+-]\d+))? \{\{(.*?)\}\}")


def _expected(source: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        for offset, message in EXPECTED.findall(line):
            found.append((number + int(offset or 0), message))
    return sorted(found)


def test_every_rule_error_is_reported_where_the_corpus_expects_it():
    with pytest.raises(SpecError) as error:
        Checker(parse(CORPUS, "corpus.stitch"), library=True).check()
    reported = sorted((d.span.line, d.message) for d in error.value.diagnostics)
    assert reported == _expected(CORPUS)


def test_the_valid_rules_of_the_corpus_compile():
    valid = [block for block in CORPUS.split("\n\n") if block.startswith(("rule names_it", "rule strict_may"))]
    program = Checker(parse("stitch 1\n\n" + "\n\n".join(valid), "ok.stitch"), library=True).check()
    assert [rule.name for rule in program.rules.values()] == ["names_it", "strict_may_set_it"]
    assert [rule.strict for rule in program.rules.values()] == [False, True]
