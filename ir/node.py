"""Nodes: an ONNX op (domain, name) with typed attributes, inputs, outputs, a stable name and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import onnx
from onnx import helper

from .value import Value

STITCHC_DOMAIN = "stitchc"  # the domain of stitchc's own ops (Switch); decoding removes them before export


@dataclass(frozen=True)
class Attribute:
    """A typed attribute value; `kind` is the onnx.AttributeProto type (graphs stay as GraphProto)."""

    kind: int
    value: Any

    @staticmethod
    def from_onnx(proto: onnx.AttributeProto) -> Attribute:
        return Attribute(proto.type, helper.get_attribute_value(proto))

    def to_onnx(self, name: str) -> onnx.AttributeProto:
        return helper.make_attribute(name, self.value, attr_type=self.kind)

    @staticmethod
    def of(value: Any) -> Attribute:
        """Builds an attribute from a Python value (ints, floats, strings and non-empty lists of them).
        Strings are stored as bytes, the form ONNX import gives them."""
        if isinstance(value, str):
            value = value.encode()
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            value = [v.encode() for v in value]
        return Attribute(helper.make_attribute("_", value).type, value)


@dataclass(frozen=True)
class Provenance:
    """Where a node came from: the parent model's name and the node's name or module path there."""

    parent: str
    path: str


@dataclass(eq=False)
class Node:
    op: str
    inputs: list[Value | None]
    outputs: list[Value]
    name: str
    domain: str = ""
    attributes: dict[str, Attribute] = field(default_factory=dict)
    provenance: Provenance | None = None

    def attr(self, name: str, default: Any = None) -> Any:
        attribute = self.attributes.get(name)
        return default if attribute is None else attribute.value

    def __repr__(self) -> str:
        ins = ", ".join("_" if v is None else f"%{v.name}" for v in self.inputs)
        outs = ", ".join(f"%{v.name}" for v in self.outputs)
        op = f"{self.domain}.{self.op}" if self.domain else self.op
        return f"{outs} = {op}({ins})  # {self.name}"
