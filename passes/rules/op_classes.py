"""Op names in patterns: ONNX ops (CamelCase, checked against the ONNX schemas) and op classes (lowercase);
what the schemas say about inputs (optional ones) and which ops are commutative."""

from __future__ import annotations

import functools

import onnx

OP_CLASSES: dict[str, frozenset[str]] = {
    "activation": frozenset(
        {
            "Relu",
            "LeakyRelu",
            "Sigmoid",
            "Tanh",
            "Elu",
            "Selu",
            "HardSigmoid",
            "HardSwish",
            "Softplus",
            "Gelu",
            "Mish",
            "PRelu",
            "Clip",
        }
    ),
    "elementwise": frozenset(
        {
            "Add",
            "Sub",
            "Mul",
            "Div",
            "Relu",
            "LeakyRelu",
            "Sigmoid",
            "Tanh",
            "Neg",
            "Abs",
            "Exp",
            "Log",
            "Sqrt",
            "Elu",
            "Selu",
            "Clip",
            "Identity",
        }
    ),
    "conv": frozenset({"Conv", "ConvTranspose"}),
    "pool": frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}),
    "linear": frozenset({"Gemm", "MatMul"}),
    "norm": frozenset({"BatchNormalization", "InstanceNormalization", "LayerNormalization"}),
}

# ops whose inputs may be given in any order (a pattern's operands match them in either order)
COMMUTATIVE = frozenset(
    {"Add", "Mul", "Max", "Min", "Mean", "Sum", "And", "Or", "Xor", "Equal", "BitwiseAnd", "BitwiseOr", "BitwiseXor"}
)


@functools.lru_cache(maxsize=1)
def onnx_ops() -> frozenset[str]:
    return frozenset(schema.name for schema in onnx.defs.get_all_schemas())


def is_class(name: str) -> bool:
    return name[:1].islower()


def expand(names: tuple[str, ...]) -> frozenset[str]:
    """The concrete ops an alternative such as `Relu|activation` matches."""
    ops: set[str] = set()
    for name in names:
        ops |= OP_CLASSES.get(name, {name})
    return frozenset(ops)


def attribute_default(op: str, name: str):
    """The ONNX schema default of an attribute, or None."""
    try:
        attribute = onnx.defs.get_schema(op).attributes[name]
    except (onnx.defs.SchemaError, KeyError):
        return None
    if not attribute.default_value.name:
        return None
    return onnx.helper.get_attribute_value(attribute.default_value)


@functools.cache
def optional_input(op: str, position: int) -> str | None:
    """The schema name of input `position` of the ONNX op when that input is optional, else None."""
    try:
        inputs = onnx.defs.get_schema(op).inputs
    except onnx.defs.SchemaError:
        return None
    if position >= len(inputs) or inputs[position].option != onnx.defs.OpSchema.FormalParameterOption.Optional:
        return None
    return inputs[position].name
