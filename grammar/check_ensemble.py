"""Check `ensemble(children = 5, mutation = jitter, partition = false)` in a `program(...)`: one program step that
turns the candidate into the softmax-averaging ensemble of `children` sparse-mutation children (passes/ensemble.py).

The step is a transform of its own, named `ensemble_MUTATION_CHILDREN` (`_disjoint` appended when partitioned): it takes the mutation's parameters (their
ranges become genes, like the mutation's own) plus `children` and `partition`. The mutation must be a Gaussian one
(`sparse_gaussian`, or `gaussian`: rate 1).
"""

from __future__ import annotations

from . import ast
from .program import ParamSpec, TransformSpec

GAUSSIAN = ("sparse_gaussian", "gaussian")


def check_ensemble(checker, call: ast.Call) -> TransformSpec:
    """The ensemble step's transform, also recorded in the program's transforms under its name."""
    checker.only_kwargs(call, ("children", "mutation", "partition"))
    if call.args or "mutation" not in call.kwargs:
        raise checker.error(call.span, "ensemble() takes keyword arguments children, mutation, partition")
    ref = call.kwargs["mutation"][1]
    mutations = {n: t for n, t in checker.program.transforms.items() if t.kind == "mutation" and t.impl in GAUSSIAN}
    if not isinstance(ref, ast.Ref) or ref.dotted not in mutations:
        raise checker.unknown(ref.span, "Gaussian mutation", getattr(ref, "dotted", "?"), mutations)
    mutation = mutations[ref.dotted]
    children = checker.int_kwarg(call, "children", 5, minimum=2)
    partition = checker.boolean(call.kwargs["partition"][1], "partition") if "partition" in call.kwargs else False
    params = list(mutation.params)
    if mutation.impl == "gaussian":
        params.append(ParamSpec("rate", "float", None, None, 1.0))
    rate = _largest_rate(params)
    if partition and rate * children > 1:
        raise checker.error(
            call.kwargs["partition"][1].span,
            f"partition = true gives each of the {children} children its own {rate:g} of every tensor: "
            f"rate · children must be at most 1",
        )
    params += [
        ParamSpec("children", "int", None, None, children),
        ParamSpec("partition", "bool", None, None, partition),
    ]
    spec = TransformSpec(
        "mutation",
        f"ensemble_{mutation.name}_{children}{'_disjoint' if partition else ''}",
        "ensemble",
        tuple(params),
        call.span,
    )
    checker.program.transforms[spec.name] = spec
    return spec


def _largest_rate(params: list[ParamSpec]) -> float:
    """The largest mask density the step can take: the top of the rate's range, else its default (else 0.01, the
    implementation's)."""
    for param in params:
        if param.name == "rate":
            return float(param.high if param.high is not None else param.default if param.default is not None else 1)
    return 0.01
