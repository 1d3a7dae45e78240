"""A rewrite rule: a match pattern, `where` guards, a `compute` block, a rewrite and an optional `ensures`.

This is what the rule engine executes, whoever wrote it: the .stitch compiler turns a `rule` block into
one, and a Python user builds it directly (see builder.py). Lists and a compute dict given to the
constructor are stored as tuples, so a Rule is immutable and compares structurally (spans aside).
"""

from __future__ import annotations

from dataclasses import dataclass

from .expr import Expr, lift, span_field
from .statements import Assign, Forward, OpStatement


@dataclass(frozen=True)
class Rule:
    """`name`: the pass name. `match`: op statements whose one root (the statement whose result no other
    uses) anchors the match. `where`: guards that must all be true. `compute`: assignments evaluated in
    order on the matched constants. `rewrite`: statements that redefine the root's result. `tol`:
    `ensures allclose(tol)` (None: not checked). `strict`: match nodes with exactly the named inputs and
    attributes (see matcher.py)."""

    name: str
    match: tuple[OpStatement, ...]
    rewrite: tuple[OpStatement | Forward, ...]
    where: tuple[Expr, ...] = ()
    compute: tuple[Assign, ...] = ()
    tol: float | None = None
    strict: bool = False
    span: object = span_field()

    def __post_init__(self):
        compute = self.compute.items() if isinstance(self.compute, dict) else None
        set_ = object.__setattr__
        set_(self, "match", tuple(self.match))
        set_(self, "rewrite", tuple(self.rewrite))
        set_(self, "where", tuple(lift(guard) for guard in self.where))
        if compute is not None:
            set_(self, "compute", tuple(Assign(name, lift(value)) for name, value in compute))
        else:
            set_(self, "compute", tuple(self.compute))
