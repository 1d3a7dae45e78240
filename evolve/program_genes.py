"""Program genes: up to `max` morphism/mutation steps applied, in order, to a decoded candidate.

Each slot has an op gene (none or one of the program's transforms), a site gene (which node of the
transform's op-typed parameter, taken modulo the candidate's count of such nodes), a seed gene for
random choices, and one gene per ranged numeric parameter of each transform (ints: every value of the
range, at most 16; floats: 5 evenly spaced values). Parameters without a range take their default.
Genes that cannot matter (a slot set to none, a parameter of another transform) are canonically 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stitchc.grammar.program import GenomeProgramSpec, TransformSpec
from stitchc.ir import Graph
from stitchc.passes.rules.op_classes import OP_CLASSES
from stitchc.passes.transform_base import IMPLEMENTATIONS, Implementation
from stitchc.stitch.supernet import Gene
from stitchc.passes.transforms import load_implementations

SEEDS = 8
FLOAT_LEVELS = 5
MAX_INT_VALUES = 16


@dataclass(frozen=True)
class ParamGene:
    transform: int  # index into ProgramGenes.transforms
    name: str
    values: tuple


@dataclass
class ProgramGenes:
    transforms: list[TransformSpec]
    slots: int
    site_options: int
    params: list[ParamGene] = field(default_factory=list)  # per slot, in this order

    @property
    def per_slot(self) -> int:
        return 3 + len(self.params)

    def genes(self) -> list[Gene]:
        genes = []
        for slot in range(self.slots):
            genes += [
                Gene(f"step{slot}", ("none", *[t.name for t in self.transforms])),
                Gene(f"step{slot}.site", tuple(str(i) for i in range(self.site_options))),
                Gene(f"step{slot}.seed", tuple(str(i) for i in range(SEEDS))),
            ]
            genes += [
                Gene(f"step{slot}.{self.transforms[p.transform].name}.{p.name}", tuple(map(str, p.values)))
                for p in self.params
            ]
        return genes

    def canonical(self, genes: tuple[int, ...]) -> tuple[int, ...]:
        result = []
        for slot in range(self.slots):
            chunk = list(genes[slot * self.per_slot : (slot + 1) * self.per_slot])
            op = chunk[0]
            if op == 0:
                chunk = [0] * self.per_slot
            else:
                spec = self.transforms[op - 1]
                if _site_type(spec) is None:
                    chunk[1] = 0
                if not IMPLEMENTATIONS[spec.impl].random:
                    chunk[2] = 0
                for k, param in enumerate(self.params):
                    if param.transform != op - 1:
                        chunk[3 + k] = 0
            result += chunk
        return tuple(result)

    def apply(self, graph: Graph, genes: tuple[int, ...]) -> list[str]:
        """Runs the program's steps on `graph` in place; returns a description of each step that applied."""
        steps = []
        for slot in range(self.slots):
            chunk = genes[slot * self.per_slot : (slot + 1) * self.per_slot]
            if chunk[0] == 0:
                continue
            spec = self.transforms[chunk[0] - 1]
            implementation = IMPLEMENTATIONS[spec.impl]
            params = self._params(spec, implementation, chunk[0] - 1, chunk[3:])
            site = _site(graph, spec, chunk[1])
            rng = np.random.default_rng([slot, chunk[2]])
            if implementation.apply(graph, site, params, rng):
                where = f" at {site.name}" if site is not None else ""
                steps.append(f"{spec.name}({', '.join(f'{k}={v}' for k, v in params.items())}){where}")
        return steps

    def _params(self, spec: TransformSpec, implementation: Implementation, index: int, chosen) -> dict:
        params = dict(implementation.defaults)
        params.update({p.name: p.default for p in spec.params if p.default is not None and p.name in params})
        for k, param in enumerate(self.params):
            if param.transform == index:
                params[param.name] = param.values[chosen[k]]
        return params


def program_genes(spec: GenomeProgramSpec, transforms: dict[str, TransformSpec], graph: Graph) -> ProgramGenes:
    load_implementations()
    chosen = [transforms[name] for name in spec.transforms]
    sites = max([_count_sites(graph, t) for t in chosen] + [1])
    params = [
        ParamGene(i, p.name, _levels(p))
        for i, t in enumerate(chosen)
        for p in t.params
        if p.type in ("int", "float") and p.low is not None
    ]
    return ProgramGenes(chosen, spec.max_length, sites, params)


def _levels(param) -> tuple:
    if param.type == "int":
        return tuple(range(int(param.low), int(min(param.high, param.low + MAX_INT_VALUES - 1)) + 1))
    return tuple(round(float(v), 6) for v in np.linspace(param.low, param.high, FLOAT_LEVELS))


def _site_type(spec: TransformSpec) -> frozenset[str] | None:
    for param in spec.params:
        if param.type not in ("int", "float", "bool"):
            return OP_CLASSES.get(param.type, frozenset({param.type}))
    return None


def _count_sites(graph: Graph, spec: TransformSpec) -> int:
    ops = _site_type(spec)
    return 1 if ops is None else max(1, sum(1 for n in graph.nodes if n.op in ops))


def _site(graph: Graph, spec: TransformSpec, gene: int):
    ops = _site_type(spec)
    if ops is None:
        return None
    nodes = [n for n in graph.nodes if n.op in ops]
    return nodes[gene % len(nodes)] if nodes else None
