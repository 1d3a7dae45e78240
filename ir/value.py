"""SSA values: produced once (by a node output, a graph input or a constant), used by an ordered list of node inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .types import TensorType

if TYPE_CHECKING:
    from .node import Node


@dataclass(eq=False)
class Value:
    """One SSA value.

    `const` holds the array of a parameter or constant; arrays are shared between graphs by
    reference and never mutated in place (a pass that changes weights assigns a new array).
    """

    name: str
    type: TensorType | None = None
    producer: Node | None = None
    const: np.ndarray | None = None
    uses: list[tuple[Node, int]] = field(default_factory=list)

    @property
    def is_const(self) -> bool:
        return self.const is not None

    def consumers(self) -> list[Node]:
        """The distinct nodes that read this value, in use order."""
        seen: dict[int, Node] = {}
        for node, _ in self.uses:
            seen.setdefault(id(node), node)
        return list(seen.values())

    def __repr__(self) -> str:
        return f"%{self.name}: {self.type}"
