"""Python shorthands that build the rule objects a .stitch `rule` block compiles to.

    var.x            %x           (a value)             optional(var.b)   %b?  (an operand that may be absent)
    attr.eps         $eps         (an attribute)        let.k             k    (a compute result)
    fn.sqrt(e)       sqrt(e)      (the function table)  forward("z", var.x)    %z = %x
    op.Conv(var.x, var.w, out="y", attrs={"group": 1}, rest=True)       %y = Conv(%x, %w) {group: 1, ...}
    op("Relu", "LeakyRelu")(var.x, out="a")                              %a = Relu|LeakyRelu(%x)

Python numbers, strings and lists inside expressions and attributes become Const and ArrayList.
"""

from __future__ import annotations

from collections.abc import Callable

from .expr import AttrVar, Call, Name, Var, lift
from .statements import AttrItem, Forward, Operand, OpStatement


class _Namespace:
    """`space.name` -> make(name)."""

    def __init__(self, make: Callable):
        self._make = make

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._make(name)


var = _Namespace(Var)
attr = _Namespace(AttrVar)
let = _Namespace(Name)
fn = _Namespace(lambda name: lambda *args: Call(name, tuple(lift(a) for a in args)))


def optional(value: Var) -> Operand:
    """`%b?`: an operand that matches an absent input too."""
    return Operand(value.name, True, True)


def forward(output: str, source: Var) -> Forward:
    """`%output = %source` in a rewrite."""
    return Forward((Var(output),), source)


class _Op:
    """Builds OpStatements: `op.Conv(...)`, or `op("Relu", "LeakyRelu")(...)` for alternatives."""

    def __call__(self, *ops: str) -> Callable[..., OpStatement]:
        return lambda *operands, **options: statement(ops, operands, **options)

    def __getattr__(self, name: str) -> Callable[..., OpStatement]:
        if name.startswith("__"):
            raise AttributeError(name)
        return self(name)


op = _Op()


def statement(
    ops: tuple[str, ...], operands, out: str | tuple[str, ...], attrs: dict | None = None, rest: bool = False
) -> OpStatement:
    """`%out = ops(operands) {attrs, ...}`; operands are `var.x`, `optional(var.b)` or `let.k`."""
    outputs = (out,) if isinstance(out, str) else tuple(out)
    return OpStatement(
        tuple(Var(name) for name in outputs),
        tuple(ops),
        tuple(_operand(o) for o in operands),
        tuple(AttrItem(name, lift(value)) for name, value in (attrs or {}).items()),
        rest,
    )


def _operand(value) -> Operand:
    if isinstance(value, Operand):
        return value
    if isinstance(value, Var):
        return Operand(value.name)
    if isinstance(value, Name):
        return Operand(value.name, is_value=False)
    raise TypeError(f"an operand is var.NAME, optional(var.NAME) or let.NAME, not {value!r}")
