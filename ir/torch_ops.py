"""The torch op table: ONNX semantics written with torch functions, one function per ONNX op.

Each function takes the node's inputs as tensors (None for an omitted optional input) and its attributes as
keyword arguments named as in ONNX (plus `opset` where the semantics changed between opsets). OPS maps
an ONNX op name to its function; an op missing here cannot be lowered to torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from onnx import TensorProto

DTYPES = {
    TensorProto.FLOAT: torch.float32,
    TensorProto.DOUBLE: torch.float64,
    TensorProto.FLOAT16: torch.float16,
    TensorProto.BFLOAT16: torch.bfloat16,
    TensorProto.INT64: torch.int64,
    TensorProto.INT32: torch.int32,
    TensorProto.INT16: torch.int16,
    TensorProto.INT8: torch.int8,
    TensorProto.UINT8: torch.uint8,
    TensorProto.BOOL: torch.bool,
}


def _ints(t) -> list[int]:
    """Python ints from a tensor or a list; symbolic sizes (torch.SymInt under torch.export) stay symbolic."""
    return [v if isinstance(v, torch.SymInt) else int(v) for v in (t.tolist() if isinstance(t, torch.Tensor) else t)]


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


# ----- convolution, pooling, normalisation -----------------------------------------------------------
def _same_pads(x, kernel, strides, dilations, auto_pad) -> list[int]:
    begins, ends = [], []
    for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small, large = total // 2, total - total // 2
        begins.append(large if auto_pad == "SAME_LOWER" else small)
        ends.append(small if auto_pad == "SAME_LOWER" else large)
    return begins + ends


def _pads(x, kernel, strides, dilations, pads, auto_pad) -> list[int]:
    spatial = len(kernel)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return _same_pads(x, kernel, strides, dilations, auto_pad)
    return list(pads) if pads else [0] * 2 * spatial


def _torch_pad(pads: list[int]) -> list[int]:
    """ONNX [b1, b2, .., e1, e2, ..] to F.pad's (b_last, e_last, ..., b_first, e_first)."""
    half = len(pads) // 2
    out = []
    for i in reversed(range(half)):
        out += [pads[i], pads[i + half]]
    return out


def _symmetric(x, pads, fill=0.0):
    """Applies asymmetric padding explicitly; returns (x, symmetric per-dim padding for the torch op)."""
    half = len(pads) // 2
    if pads[:half] == pads[half:]:
        return x, pads[:half]
    return F.pad(x, _torch_pad(pads), value=fill), [0] * half


def conv(x, w, b=None, *, kernel_shape=None, strides=None, pads=None, dilations=None, group=1, auto_pad="NOTSET"):
    spatial = w.dim() - 2
    strides, dilations = strides or [1] * spatial, dilations or [1] * spatial
    x, padding = _symmetric(x, _pads(x, list(w.shape[2:]), strides, dilations, pads, auto_pad))
    fn = (F.conv1d, F.conv2d, F.conv3d)[spatial - 1]
    return fn(x, w, b, strides, padding, dilations, group)


def conv_transpose(
    x,
    w,
    b=None,
    *,
    kernel_shape=None,
    strides=None,
    pads=None,
    dilations=None,
    group=1,
    output_padding=None,
    auto_pad="NOTSET",
):
    spatial = w.dim() - 2
    strides, dilations = strides or [1] * spatial, dilations or [1] * spatial
    output_padding = output_padding or [0] * spatial
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        raise NotImplementedError("ConvTranspose with auto_pad SAME")
    pads = pads or [0] * 2 * spatial
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spatial - 1]
    y = fn(x, w, b, strides, 0, output_padding, group, dilations)
    index = [slice(None), slice(None)] + [slice(pads[i], y.shape[2 + i] - pads[i + spatial]) for i in range(spatial)]
    return y[tuple(index)]


def batch_normalization(x, scale, bias, mean, var, *, epsilon=1e-5, momentum=0.9, spatial=1, training_mode=0):
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, epsilon)


def instance_normalization(x, scale, bias, *, epsilon=1e-5):
    return F.instance_norm(x, weight=scale, bias=bias, eps=epsilon)


def layer_normalization(x, scale, bias=None, *, axis=-1, epsilon=1e-5, stash_type=1):
    dims = list(range(_axis(axis, x.dim()), x.dim()))
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    y = (x - mean) / torch.sqrt(var + epsilon) * scale
    return y if bias is None else y + bias


def lrn(x, *, size, alpha=1e-4, beta=0.75, bias=1.0):
    return F.local_response_norm(x, size, alpha, beta, bias)


def _pool(x, kernel_shape, strides, pads, auto_pad, dilations, fill):
    spatial = len(kernel_shape)
    strides, dilations = strides or [1] * spatial, dilations or [1] * spatial
    pads = _pads(x, kernel_shape, strides, dilations, pads, auto_pad)
    half = len(pads) // 2
    if pads[:half] == pads[half:] and all(p <= k // 2 for p, k in zip(pads, kernel_shape)):
        return x, strides, pads[:half], dilations
    return F.pad(x, _torch_pad(pads), value=fill), strides, [0] * half, dilations


def max_pool(
    x, *, kernel_shape, strides=None, pads=None, auto_pad="NOTSET", dilations=None, ceil_mode=0, storage_order=0
):
    x, strides, padding, dilations = _pool(x, kernel_shape, strides, pads, auto_pad, dilations, -math.inf)
    fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(kernel_shape) - 1]
    return fn(x, kernel_shape, strides, padding, dilations, bool(ceil_mode))


def average_pool(
    x, *, kernel_shape, strides=None, pads=None, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None
):
    if dilations and any(d != 1 for d in dilations):
        raise NotImplementedError("AveragePool with dilations")
    spatial = len(kernel_shape)
    strides = strides or [1] * spatial
    full = _pads(x, kernel_shape, strides, [1] * spatial, pads, auto_pad)
    half = len(full) // 2
    if full[:half] != full[half:] or any(p > k // 2 for p, k in zip(full, kernel_shape)):
        if not count_include_pad and any(full):
            raise NotImplementedError("AveragePool with asymmetric pads and count_include_pad=0")
        x, full = F.pad(x, _torch_pad(full)), [0] * len(full)
    fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[spatial - 1]
    return fn(x, kernel_shape, strides, full[:half], bool(ceil_mode), bool(count_include_pad))


def global_average_pool(x):
    return x.mean(list(range(2, x.dim())), keepdim=True)


def global_max_pool(x):
    return x.amax(list(range(2, x.dim())), keepdim=True)


# ----- dense algebra -----------------------------------------------------------------------------------
def gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = (a.t() if transA else a) @ (b.t() if transB else b)
    y = y * alpha if alpha != 1.0 else y
    return y if c is None else y + (c * beta if beta != 1.0 else c)


def matmul(a, b):
    return torch.matmul(a, b)


def einsum(*inputs, equation):
    return torch.einsum(equation, *inputs)


# ----- elementwise ---------------------------------------------------------------------------------------
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    if a.dtype.is_floating_point:
        return a / b
    return torch.div(a, b, rounding_mode="trunc")


def mod(a, b, *, fmod=0):
    """fmod=0: the remainder takes the divisor's sign (integers only, as in Python); fmod=1: the dividend's (C fmod)."""
    return torch.fmod(a, b) if fmod else torch.remainder(a, b)


def pow_(a, b):
    return torch.pow(a, b).to(a.dtype)


def _unary(fn):
    def op(x):
        return fn(x)

    op.__name__ = fn.__name__.strip("_")
    return op


def leaky_relu(x, *, alpha=0.01):
    return F.leaky_relu(x, alpha)


def hard_sigmoid(x, *, alpha=0.2, beta=0.5):
    return torch.clamp(alpha * x + beta, 0.0, 1.0)


def hard_swish(x):
    return x * torch.clamp(x / 6.0 + 0.5, 0.0, 1.0)


def clip(x, low=None, high=None, *, min=None, max=None):
    low = low if low is not None else min
    high = high if high is not None else max
    return torch.clamp(x, low, high)


def elu(x, *, alpha=1.0):
    return F.elu(x, alpha)


def selu(x, *, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875):
    return gamma * torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def prelu(x, slope):
    return torch.where(x < 0, x * slope, x)


def gelu(x, *, approximate="none"):
    return F.gelu(x, approximate=approximate)


def softmax(x, *, axis=None, opset=13):
    return _softmax(x, axis, opset, torch.softmax)


def log_softmax(x, *, axis=None, opset=13):
    return _softmax(x, axis, opset, torch.log_softmax)


def _softmax(x, axis, opset, fn):
    if opset >= 13:
        return fn(x, -1 if axis is None else axis)
    axis = _axis(1 if axis is None else axis, x.dim())
    return fn(x.reshape(math.prod(x.shape[:axis]), -1), 1).reshape(x.shape)


def _variadic(fn):
    def op(*inputs):
        result = inputs[0]
        for other in inputs[1:]:
            result = fn(result, other)
        return result

    return op


def mean(*inputs):
    return _variadic(torch.add)(*inputs) / len(inputs)


def where(condition, a, b):
    return torch.where(condition, a, b)


def cast(x, *, to, saturate=1, round_mode="up"):
    return x.to(DTYPES[to])


def cast_like(x, like, *, saturate=1, round_mode="up"):
    return x.to(like.dtype)


# ----- shape and data movement --------------------------------------------------------------------------------
def identity(x):
    return x


def dropout(x, ratio=None, training_mode=None, *, seed=None, is_test=0):
    return x, torch.ones_like(x, dtype=torch.bool)


def concat(*inputs, axis):
    return torch.cat(inputs, axis)


def split(x, sizes=None, *, axis=0, split=None, num_outputs=None, outputs=1):
    length = x.shape[axis]
    if sizes is not None or split is not None:
        return torch.split(x, _ints(sizes if sizes is not None else split), axis)
    count = num_outputs or outputs
    return torch.split(x, math.ceil(length / count), axis)


def reshape(x, shape, *, allowzero=0):
    dims = _ints(shape)
    if not allowzero:
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


def flatten(x, *, axis=1):
    axis = _axis(axis, x.dim())
    return x.reshape(math.prod(x.shape[:axis]), -1)


def transpose(x, *, perm=None):
    return x.permute(perm if perm is not None else list(reversed(range(x.dim()))))


def squeeze(x, axes=None, **attributes):
    axes = _ints(axes) if axes is not None else attributes.get("axes")
    if axes is None:
        return x.squeeze()
    return x.squeeze(tuple(_axis(a, x.dim()) for a in axes))


def unsqueeze(x, axes=None, **attributes):
    axes = _ints(axes) if axes is not None else attributes["axes"]
    rank = x.dim() + len(axes)
    for axis in sorted(_axis(a, rank) for a in axes):
        x = x.unsqueeze(axis)
    return x


def pad(x, pads=None, value=None, axes=None, *, mode="constant", **attributes):
    pads = _ints(pads) if pads is not None else attributes.get("paddings", attributes.get("pads"))
    fill = float(value) if value is not None else attributes.get("value", 0.0)
    if axes is not None:
        full = [0] * 2 * x.dim()
        axes = [_axis(a, x.dim()) for a in _ints(axes)]
        for i, a in enumerate(axes):
            full[a], full[a + x.dim()] = pads[i], pads[i + len(axes)]
        pads = full
    torch_mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}[mode]
    order = _torch_pad(pads)
    while torch_mode != "constant" and len(order) > 2 and order[-2:] == [0, 0]:
        order = order[:-2]
    if torch_mode == "constant":
        return F.pad(x, order, value=fill)
    return F.pad(x, order, mode=torch_mode)


def resize(
    x,
    roi=None,
    scales=None,
    sizes=None,
    *,
    mode="nearest",
    coordinate_transformation_mode="half_pixel",
    nearest_mode="round_prefer_floor",
    cubic_coeff_a=-0.75,
    exclude_outside=0,
    extrapolation_value=0.0,
    antialias=0,
    axes=None,
    keep_aspect_ratio_policy="stretch",
    opset=13,
):
    if opset < 11:
        roi, scales = None, roi
    if sizes is not None and sizes.numel():
        size = _ints(sizes)[2:]
        scale = None
    else:
        size, scale = None, [float(s) for s in scales.tolist()[2:]]
    if mode == "nearest":
        if coordinate_transformation_mode == "asymmetric" and nearest_mode == "floor":
            return F.interpolate(x, size, scale, mode="nearest")
        if (
            coordinate_transformation_mode in ("half_pixel", "pytorch_half_pixel")
            and nearest_mode == "round_prefer_ceil"
        ):
            return F.interpolate(x, size, scale, mode="nearest-exact")
    elif (
        mode in ("linear", "cubic")
        and coordinate_transformation_mode in ("half_pixel", "pytorch_half_pixel", "align_corners")
        and not antialias
    ):
        torch_mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[x.dim() - 2] if mode == "linear" else "bicubic"
        align = coordinate_transformation_mode == "align_corners"
        return F.interpolate(x, size, scale, mode=torch_mode, align_corners=align)
    raise NotImplementedError(
        f"Resize mode={mode} coordinate_transformation_mode={coordinate_transformation_mode}"
        f" nearest_mode={nearest_mode}"
    )


def upsample(x, scales=None, *, mode="nearest", **attributes):
    scale = [float(s) for s in (scales.tolist() if scales is not None else attributes["scales"])[2:]]
    if mode == "nearest":
        return F.interpolate(x, None, scale, mode="nearest")
    return F.interpolate(x, None, scale, mode="bilinear", align_corners=False)


def shape(x, *, start=0, end=None):
    return torch.tensor(list(x.shape)[start:end], dtype=torch.int64)


def size(x):
    return torch.tensor(x.numel(), dtype=torch.int64)


def gather(x, indices, *, axis=0):
    axis = _axis(axis, x.dim())
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    picked = x.index_select(axis, indices.reshape(-1))
    return picked.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1 :]))


def gather_elements(x, indices, *, axis=0):
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.gather(x, axis, indices)


def slice_(x, starts=None, ends=None, axes=None, steps=None, **attributes):
    starts = _ints(starts) if starts is not None else attributes["starts"]
    ends = _ints(ends) if ends is not None else attributes["ends"]
    axes = _ints(axes) if axes is not None else attributes.get("axes", list(range(len(starts))))
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _axis(axis, x.dim())
        picked = range(*slice(start, end, step).indices(x.shape[axis]))
        if step > 0:
            x = (
                x.narrow(axis, picked.start, len(picked))
                if step == 1
                else x.index_select(axis, torch.tensor(list(picked), dtype=torch.int64, device=x.device))
            )
        else:
            x = x.index_select(axis, torch.tensor(list(picked), dtype=torch.int64, device=x.device))
    return x


def scatter_nd(data, indices, updates, *, reduction="none"):
    """A copy of `data` with the slices that the last axis of `indices` addresses replaced by (or reduced with)
    `updates`; indices are read modulo the addressed dims, so negative ones count from the end."""
    depth = indices.shape[-1]
    addressed = torch.tensor(data.shape[:depth], dtype=torch.int64, device=data.device)
    rows = torch.remainder(indices.reshape(-1, depth).to(torch.int64), addressed)
    strides = torch.tensor([math.prod(data.shape[i + 1 : depth]) for i in range(depth)], device=data.device)
    flat = (rows * strides).sum(-1)
    table = data.reshape(math.prod(data.shape[:depth]), -1).clone()
    slices = updates.reshape(flat.numel(), -1).to(data.dtype)
    if reduction == "none":
        table[flat] = slices
    else:
        rows = flat[:, None].expand_as(slices)
        table.scatter_reduce_(0, rows, slices, {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}[reduction])
    return table.reshape(data.shape)


def constant_of_shape(shape, *, value=None):
    fill, dtype = value if value is not None else ([0.0], TensorProto.FLOAT)
    return torch.full(_ints(shape), fill[0] if isinstance(fill, list) else fill, dtype=DTYPES[dtype])


def expand(x, shape):
    return x.expand(torch.broadcast_shapes(x.shape, tuple(_ints(shape))))


def tile(x, repeats):
    return x.repeat(_ints(repeats))


def range_(start, limit, delta):
    return torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


def _reduce(fn):
    def op(x, axes=None, *, keepdims=1, noop_with_empty_axes=0, **attributes):
        axes = _ints(axes) if axes is not None else attributes.get("axes")
        if not axes:
            if noop_with_empty_axes:
                return x
            axes = list(range(x.dim()))
        return fn(x, [_axis(a, x.dim()) for a in axes], bool(keepdims))

    return op


def _reduce_prod(x, dims, keep):
    for dim in sorted(dims, reverse=True):
        x = x.prod(dim, keepdim=keep)
    return x


def arg_max(x, *, axis=0, keepdims=1, select_last_index=0):
    return torch.argmax(x, axis, bool(keepdims))


def arg_min(x, *, axis=0, keepdims=1, select_last_index=0):
    return torch.argmin(x, axis, bool(keepdims))


OPS = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "BatchNormalization": batch_normalization,
    "InstanceNormalization": instance_normalization,
    "LayerNormalization": layer_normalization,
    "LRN": lrn,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_average_pool,
    "GlobalMaxPool": global_max_pool,
    "Gemm": gemm,
    "MatMul": matmul,
    "Einsum": einsum,
    "Add": add,
    "Sub": sub,
    "Mul": mul,
    "Div": div,
    "Mod": mod,
    "Pow": pow_,
    "Sqrt": _unary(torch.sqrt),
    "Exp": _unary(torch.exp),
    "Log": _unary(torch.log),
    "Neg": _unary(torch.neg),
    "Abs": _unary(torch.abs),
    "Reciprocal": _unary(torch.reciprocal),
    "Floor": _unary(torch.floor),
    "Ceil": _unary(torch.ceil),
    "Erf": _unary(torch.erf),
    "Sin": _unary(torch.sin),
    "Cos": _unary(torch.cos),
    "Sign": _unary(torch.sign),
    "Not": _unary(torch.logical_not),
    "Relu": _unary(torch.relu),
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Softplus": _unary(F.softplus),
    "Softsign": _unary(F.softsign),
    "Mish": _unary(F.mish),
    "LeakyRelu": leaky_relu,
    "HardSigmoid": hard_sigmoid,
    "HardSwish": hard_swish,
    "Clip": clip,
    "Elu": elu,
    "Selu": selu,
    "PRelu": prelu,
    "Gelu": gelu,
    "Softmax": softmax,
    "LogSoftmax": log_softmax,
    "Sum": _variadic(torch.add),
    "Mean": mean,
    "Max": _variadic(torch.maximum),
    "Min": _variadic(torch.minimum),
    "Equal": torch.eq,
    "Less": torch.lt,
    "LessOrEqual": torch.le,
    "Greater": torch.gt,
    "GreaterOrEqual": torch.ge,
    "And": torch.logical_and,
    "Or": torch.logical_or,
    "Xor": torch.logical_xor,
    "Where": where,
    "Cast": cast,
    "CastLike": cast_like,
    "Identity": identity,
    "Dropout": dropout,
    "Concat": concat,
    "Split": split,
    "Reshape": reshape,
    "Flatten": flatten,
    "Transpose": transpose,
    "Squeeze": squeeze,
    "Unsqueeze": unsqueeze,
    "Pad": pad,
    "Resize": resize,
    "Upsample": upsample,
    "Shape": shape,
    "Size": size,
    "Gather": gather,
    "GatherElements": gather_elements,
    "Slice": slice_,
    "ScatterND": scatter_nd,
    "ConstantOfShape": constant_of_shape,
    "Expand": expand,
    "Tile": tile,
    "Range": range_,
    "ReduceMean": _reduce(lambda x, d, k: x.mean(d, keepdim=k)),
    "ReduceSum": _reduce(lambda x, d, k: x.sum(d, keepdim=k)),
    "ReduceMax": _reduce(lambda x, d, k: x.amax(d, keepdim=k)),
    "ReduceMin": _reduce(lambda x, d, k: x.amin(d, keepdim=k)),
    "ReduceProd": _reduce(_reduce_prod),
    "ReduceL2": _reduce(lambda x, d, k: x.square().sum(d, keepdim=k).sqrt()),
    "ReduceSumSquare": _reduce(lambda x, d, k: x.square().sum(d, keepdim=k)),
    "ArgMax": arg_max,
    "ArgMin": arg_min,
}

TUPLE_OPS = {"Split", "Dropout"}  # these return a tuple of all their outputs


def _name_generated_ops() -> None:
    """Names each op function a factory made (_unary, _variadic, _reduce) `onnx_<Op>` at module level.

    A lowered fx module's code calls its op functions by qualified name, and pickle finds them by that name;
    a closure's name (`_unary.<locals>.op`) cannot be imported, so such a module would not pickle."""
    for op, function in OPS.items():
        if "<locals>" in getattr(function, "__qualname__", ""):
            function.__name__ = function.__qualname__ = f"onnx_{op}"
            globals()[function.__name__] = function


_name_generated_ops()
