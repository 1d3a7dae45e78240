"""ONNX mutation fuzzer: mutants of small valid models run through `stitchc inspect` and `stitchc convert`.

Every mutant is written as `<case>/model/model.onnx` (plus any files it references) beside
`<case>/outside/SECRET.bin`, a file no model may read. Both commands run in this process (`stitchc.cli.main`
with argv, SystemExit caught, a SIGALRM deadline) and each run is classified:

- ok: exit 0; error: non-zero exit and one line `stitchc: error: ...`;
- traceback: an exception escaped `main`, or stderr is not one clean line;
- hang: the deadline passed;
- escape: the secret's bytes in any output, a file outside the model's folder opened (an audit hook watches
  `open`), or a converted model that still references external data;
- raw control: a control character (ESC, CR, ...) reached stdout or stderr unescaped.

Fast slice (default suite): `pytest tests/fuzz/test_onnx_fuzz.py`; long run (1,000+ mutants, counts by outcome):
`pytest -m slow tests/fuzz/test_onnx_fuzz.py -s` or `python tests/fuzz/onnx_mutants.py --count 1000 --seed 1`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import random
import re
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_seeds import seeds  # noqa: E402

from stitchc.ir.tensor_places import model_tensors as places  # noqa: E402

SECRET = b"SECRET-0x5e57-do-not-read-" * 8
OUTCOMES = ("ok", "error", "traceback", "hang", "escape", "raw control")
FAILURES = ("traceback", "hang", "escape", "raw control")
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Case:
    """The folders of one mutant: the model's, and the one beside it that holds the secret."""

    root: str
    folder: str = ""
    secret: str = ""

    def __post_init__(self):
        self.folder = os.path.join(self.root, "model")
        outside = os.path.join(self.root, "outside")
        os.makedirs(self.folder)
        os.makedirs(outside)
        self.secret = os.path.join(outside, "SECRET.bin")
        with open(self.secret, "wb") as handle:
            handle.write(SECRET * 64)

    @property
    def model(self) -> str:
        return os.path.join(self.folder, "model.onnx")


# ---------------------------------------------------------------- mutations


def _dims(model: onnx.ModelProto) -> list:
    graph = model.graph
    typed = [*graph.input, *graph.output, *graph.value_info]
    return [d for v in typed if v.type.HasField("tensor_type") for d in v.type.tensor_type.shape.dim]


def absurd_dim(model, rng, case):
    dims = _dims(model)
    value = rng.choice([0, -1, -(2**40), 2**31, 10**9, 2**62, 3])
    if dims and rng.random() < 0.6:
        rng.choice(dims).dim_value = value
    else:
        tensor = rng.choice([t for _, t in places(model)])
        if tensor.dims:
            tensor.dims[rng.randrange(len(tensor.dims))] = value
        else:
            tensor.dims.append(value)
    return model


def delete_initializer(model, rng, case):
    graph = model.graph
    if graph.initializer:
        del graph.initializer[rng.randrange(len(graph.initializer))]
    elif graph.node:
        del graph.node[rng.randrange(len(graph.node))]
    return model


def cycle(model, rng, case):
    nodes = model.graph.node
    if len(nodes) >= 2:
        i, j = sorted(rng.sample(range(len(nodes)), 2))
        if nodes[i].input:
            nodes[i].input[0] = nodes[j].output[0]
        else:
            nodes[i].input.append(nodes[j].output[0])
    elif nodes:
        nodes[0].input[:1] = [nodes[0].output[0]]
    return model


def wrong_dtype(model, rng, case):
    dtype = rng.choice([0, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 23, 999, 12345])
    if rng.random() < 0.5:
        values = [v for v in [*model.graph.input, *model.graph.output] if v.type.HasField("tensor_type")]
        rng.choice(values).type.tensor_type.elem_type = dtype
    else:
        rng.choice([t for _, t in places(model)]).data_type = dtype
    return model


def duplicate_name(model, rng, case):
    graph = model.graph
    names = [o for n in graph.node for o in n.output] + [t.name for t in graph.initializer]
    choice = rng.randrange(3)
    if choice == 0 and len(graph.node) >= 2:
        a, b = rng.sample(list(graph.node), 2)
        a.output[0] = b.output[0]
    elif choice == 1 and graph.initializer:
        graph.initializer.add().CopyFrom(rng.choice(graph.initializer))
    elif graph.node:
        graph.node[0].name = graph.node[-1].name = rng.choice(names)
    return model


def rank_change(model, rng, case):
    """An operand of a contraction (Gemm, MatMul, Conv) becomes rank 0 or 1."""
    dims = rng.choice([[], [4], [1]])
    targets = [n for n in model.graph.node if n.op_type in ("Gemm", "MatMul", "Conv")]
    node = rng.choice(targets) if targets else model.graph.node[0]
    operand = rng.choice(list(node.input)[:2] or [""])
    for tensor in model.graph.initializer:
        if tensor.name == operand:
            tensor.CopyFrom(helper.make_tensor(operand, TensorProto.FLOAT, dims, [0.5] * (dims[0] if dims else 1)))
    for value in model.graph.input:
        if value.name == operand:
            value.CopyFrom(helper.make_tensor_value_info(operand, TensorProto.FLOAT, dims))
    return model


def huge_constant(model, rng, case):
    """A few bytes that compute a huge constant (ConstantOfShape, Expand, Tile, Range)."""
    elements = rng.choice([10**9, 2**31, 10**12, 3 * 10**8])
    kind = rng.choice(["ConstantOfShape", "Expand", "Tile", "Range"])
    graph = model.graph
    big = helper.make_tensor("big_shape", TensorProto.INT64, [1], [elements])
    graph.initializer.append(big)
    if kind == "ConstantOfShape":
        node = helper.make_node(kind, ["big_shape"], ["big"], name="huge")
    elif kind == "Expand":
        graph.initializer.append(helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
        node = helper.make_node(kind, ["one", "big_shape"], ["big"], name="huge")
    elif kind == "Tile":
        graph.initializer.append(helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
        node = helper.make_node(kind, ["one", "big_shape"], ["big"], name="huge")
    else:
        graph.initializer.append(helper.make_tensor("zero", TensorProto.INT64, [], [0]))
        graph.initializer.append(helper.make_tensor("step", TensorProto.INT64, [], [1]))
        graph.initializer.append(helper.make_tensor("limit", TensorProto.INT64, [], [elements]))
        node = helper.make_node(kind, ["zero", "limit", "step"], ["big"], name="huge")
    graph.node.append(node)
    graph.output.append(helper.make_value_info("big", onnx.TypeProto()))
    return model


def garbage_attribute(model, rng, case):
    nodes = [n for n in model.graph.node if n.attribute]
    if not nodes:
        return absurd_dim(model, rng, case)
    attribute = rng.choice(list(rng.choice(nodes).attribute))
    if attribute.ints:
        attribute.ints[rng.randrange(len(attribute.ints))] = rng.choice([-5, 0, 2**40, -(2**62)])
    elif attribute.type == onnx.AttributeProto.INT:
        attribute.i = rng.choice([-5, 2**40, 7])
    else:
        attribute.type = rng.choice([0, 1, 2, 3, 7, 14])
    return model


def swap_op(model, rng, case):
    node = rng.choice(list(model.graph.node))
    node.op_type = rng.choice(["Conv", "Gemm", "MatMul", "Relu", "NoSuchOp", "Loop", "Constant", ""])
    if rng.random() < 0.3:
        node.domain = rng.choice(["com.unknown", "local", "ai.onnx.ml"])
    return model


def hostile_name(model, rng, case):
    """Node, value and graph names carrying terminal escapes and forged lines (must print escaped)."""
    text = rng.choice(["\x1b[2J\x1b[Hall checks passed", "a\rb", "x\nstitchc: ok", "\x9b31m", "bell\x07"])
    node = rng.choice(list(model.graph.node))
    node.name = text
    if rng.random() < 0.5:
        model.graph.name = text
    return model


ESCAPES = ("dotdot", "absolute", "symlink", "symlink_dir", "hardlink", "dev_zero", "fifo", "nul", "directory")
BAD_RANGES = ("offset -1", "offset abc", "length -1", "length 1e3", "beyond", "empty location", "no location")


def set_external(tensor: TensorProto, location: str, **entries: str) -> None:
    del tensor.external_data[:]
    for key, value in {"location": location, **entries}.items():
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.ClearField("int64_data")
    tensor.ClearField("int32_data")


def escape(model, rng, case):
    """External data of a tensor in any place pointing outside the model's folder (every kind of way)."""
    place, tensor = rng.choice(list(places(model)))
    kind = rng.choice(ESCAPES)
    inside = os.path.join(case.folder, "weights.bin")
    if kind == "dotdot":
        location = rng.choice(["../outside/SECRET.bin", "sub/../../outside/SECRET.bin", "..\\outside\\SECRET.bin"])
    elif kind == "absolute":
        location = case.secret
    elif kind == "symlink":
        os.symlink(case.secret, inside)
        location = "weights.bin"
    elif kind == "symlink_dir":
        os.symlink(os.path.dirname(case.secret), os.path.join(case.folder, "sub"))
        location = "sub/SECRET.bin"
    elif kind == "hardlink":
        os.link(case.secret, inside)
        location = "weights.bin"
    elif kind == "dev_zero":
        location = rng.choice(["/dev/zero", "../../../../../../dev/zero"])
    elif kind == "fifo":
        os.mkfifo(inside)
        location = "weights.bin"
    elif kind == "nul":
        location = "weights.bin\x00../outside/SECRET.bin"
    else:
        os.mkdir(inside)
        location = "weights.bin"
    set_external(tensor, location)
    return model


def bad_range(model, rng, case):
    """External data inside the folder with a bad offset or length."""
    _, tensor = rng.choice(list(places(model)))
    with open(os.path.join(case.folder, "weights.bin"), "wb") as handle:
        handle.write(b"\0" * 64)
    kind = rng.choice(BAD_RANGES)
    entries = {
        "offset -1": {"offset": "-1"},
        "offset abc": {"offset": "abc"},
        "length -1": {"length": "-1"},
        "length 1e3": {"length": "1e3"},
        "beyond": {"offset": "32", "length": str(2**40)},
    }.get(kind, {})
    location = {"empty location": "", "no location": None}.get(kind, "weights.bin")
    if location is None:
        set_external(tensor, "weights.bin", **entries)
        del tensor.external_data[0]
    else:
        set_external(tensor, location, **entries)
    return model


def opset_garbage(model, rng, case):
    """Opset versions, domains and IR versions nobody supports."""
    choice = rng.randrange(3)
    if choice == 0:
        model.opset_import[0].version = rng.choice([0, 1, 6, 99, 2**40])
    elif choice == 1:
        model.opset_import[0].domain = rng.choice(["ai.onnx.ml", "com.microsoft", "x"])
    else:
        model.ir_version = rng.choice([0, 1, 3, 99])
    return model


def dropped_io(model, rng, case):
    """A graph input or output removed, or an output naming nothing."""
    graph = model.graph
    choice = rng.randrange(3)
    if choice == 0 and graph.input:
        del graph.input[rng.randrange(len(graph.input))]
    elif choice == 1 and graph.output:
        del graph.output[rng.randrange(len(graph.output))]
    else:
        graph.output.append(helper.make_tensor_value_info("nowhere", TensorProto.FLOAT, [1]))
    return model


def nested_huge(model, rng, case):
    """A huge ConstantOfShape inside a function body or subgraph (never computed at import)."""
    tensor = helper.make_tensor("huge_value", TensorProto.FLOAT, [1], [1.0])
    for place, proto in places(model):
        if place != "initializer" and proto.dims:
            proto.dims[0] = 10**9
            break
    model.graph.node.append(
        helper.make_node("ConstantOfShape", ["huge_shape"], ["huge_out"], name="huge", value=tensor)
    )
    model.graph.initializer.append(helper.make_tensor("huge_shape", TensorProto.INT64, [2], [10**5, 10**5]))
    return model


def stacked(model, rng, case):
    """Two model mutations in a row."""
    simple = [m for name, m in sorted(MODEL_MUTATIONS.items()) if name not in ("stacked", "external escape")]
    for mutation in rng.sample(simple, 2):
        model = mutation(model, rng, case)
    return model


def truncate(data: bytes, rng) -> bytes:
    return data[: rng.randrange(len(data))]


def flip_bytes(data: bytes, rng) -> bytes:
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        mutable[rng.randrange(len(mutable))] = rng.randrange(256)
    return bytes(mutable)


MODEL_MUTATIONS: dict[str, Callable] = {
    "absurd dim": absurd_dim,
    "deleted initializer": delete_initializer,
    "cycle": cycle,
    "wrong dtype": wrong_dtype,
    "duplicate name": duplicate_name,
    "rank change": rank_change,
    "huge constant": huge_constant,
    "garbage attribute": garbage_attribute,
    "swapped op": swap_op,
    "hostile name": hostile_name,
    "external escape": escape,
    "external range": bad_range,
    "opset garbage": opset_garbage,
    "dropped io": dropped_io,
    "nested huge": nested_huge,
    "stacked": stacked,
}
BYTE_MUTATIONS: dict[str, Callable] = {"truncation": truncate, "byte flips": flip_bytes}


def make_mutant(index: int, seed: int, case: Case) -> str:
    """Writes mutant `index` of campaign `seed` into `case`; returns its description (seed model, mutation)."""
    rng = random.Random(f"{seed}:{index}")
    models = seeds()
    name = rng.choice(sorted(models))
    model = models[name]
    mutation = rng.choice(sorted(MODEL_MUTATIONS) + sorted(BYTE_MUTATIONS))
    if mutation in BYTE_MUTATIONS:
        data = BYTE_MUTATIONS[mutation](model.SerializeToString(), rng)
    else:
        data = MODEL_MUTATIONS[mutation](model, rng, case).SerializeToString()
    with open(case.model, "wb") as handle:
        handle.write(data)
    return f"{name}: {mutation}"


# ---------------------------------------------------------------- running and classifying


class Deadline(Exception):
    pass


@dataclass
class Watch:
    """Paths opened during a run that lie outside the model's folder and the output (audit hook)."""

    allowed: tuple[str, ...] = ()
    forbidden: list[str] = field(default_factory=list)
    active: bool = False

    def hook(self, event: str, args) -> None:
        if not self.active or event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.fsdecode(args[0]) if not isinstance(args[0], os.PathLike) else os.fspath(args[0])
        real = os.path.realpath(path)
        watched = "outside" in real.split(os.sep) or (
            real.startswith("/dev/") and real not in ("/dev/null", "/dev/urandom", "/dev/random")
        )
        if watched and not real.startswith(self.allowed):
            self.forbidden.append(real)


WATCH = Watch()
_HOOKED = []


def watch_opens(allowed: tuple[str, ...]) -> Watch:
    if not _HOOKED:
        sys.addaudithook(WATCH.hook)
        _HOOKED.append(True)
    WATCH.allowed, WATCH.forbidden, WATCH.active = allowed, [], True
    return WATCH


def run_cli(argv: list[str], seconds: float) -> tuple[int | None, str, str, str | None]:
    """(status, stdout, stderr, traceback text) of `stitchc ARGV` in this process; status None on a deadline."""
    from stitchc.cli import main

    def expire(signum, frame):
        raise Deadline()

    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, expire)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(argv)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 2
    except Deadline:
        return None, out.getvalue(), err.getvalue(), None
    except BaseException:
        return 1, out.getvalue(), err.getvalue(), traceback.format_exc()
    finally:
        signal.signal(signal.SIGALRM, previous)
    return status, out.getvalue(), err.getvalue(), None


def classify(case: Case, argv: list[str], seconds: float, output: str | None = None) -> tuple[str, str]:
    """(outcome, detail) of one command on one mutant."""
    watch = watch_opens((case.folder, os.path.dirname(output) if output else case.folder))
    try:
        status, out, err, crash = run_cli(argv, seconds)
    finally:
        watch.active = False
    if status is None:
        return "hang", " ".join(argv)
    if crash is not None:
        frames = [line.strip() for line in crash.splitlines() if line.strip().startswith("File ")]
        return "traceback", f"{crash.strip().splitlines()[-1]} at {frames[-1] if frames else '?'}"
    leaked = leak(out + err, output)
    if watch.forbidden or leaked:
        return "escape", f"opened {watch.forbidden[:1]}" if watch.forbidden else leaked
    if RAW_CONTROL.search(out + err):
        return "raw control", repr((out + err)[:200])
    if status == 0:
        return "ok", ""
    lines = err.splitlines()
    if len(lines) == 1 and lines[0].startswith("stitchc: error: ") and "Traceback" not in err:
        return "error", lines[0]
    return "traceback", repr(err[-300:])


def leak(text: str, output: str | None) -> str:
    if SECRET[:24].decode() in text:
        return "secret in printed text"
    if not output or not os.path.exists(output):
        return ""
    with open(output, "rb") as handle:
        data = handle.read()
    if SECRET[:24] in data:
        return "secret in converted model"
    try:
        converted = onnx.load_from_string(data)
    except Exception:
        return "converted model does not parse"
    if any(t.external_data or t.data_location == TensorProto.EXTERNAL for _, t in places(converted)):
        return "converted model references external data"
    return ""


def run_mutant(index: int, seed: int, root: str, seconds: float = 20.0) -> list[tuple[str, str, str]]:
    """[(command, outcome, detail)] of inspect and convert on mutant `index`; prefixed by its description."""
    case = Case(os.path.join(root, f"case{index}"))
    description = make_mutant(index, seed, case)
    output = os.path.join(case.root, "converted", "out.onnx")
    os.makedirs(os.path.dirname(output))
    results = []
    convert = ["convert", case.model, "-o", output] + convert_options(random.Random(f"{seed}:{index}:options"))
    for command, argv in [("inspect", ["inspect", case.model]), ("convert", convert)]:
        outcome, detail = classify(case, argv, seconds, output if command == "convert" else None)
        results.append((command, outcome, f"{description}: {detail}"))
    return results


def convert_options(rng: random.Random) -> list[str]:
    """Half the conversions also move the opset or run built-in passes."""
    options = []
    if rng.random() < 0.25:
        options += ["--opset", str(rng.choice([7, 11, 13, 18, 21]))]
    if rng.random() < 0.25:
        options += ["--passes", ",".join(rng.sample(PASSES, rng.randint(1, 3)))]
    return options


PASSES = ["dce", "fold_constants", "fold_conv_bn", "remove_dropout", "remove_identity"]


def campaign(count: int, seed: int, seconds: float = 20.0, verbose: bool = False) -> collections.Counter:
    """Counts of (command, outcome) over `count` mutants; failures are printed when `verbose`."""
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as root:
        for index in range(count):
            for command, outcome, detail in run_mutant(index, seed, root, seconds):
                counts[(command, outcome)] += 1
                if verbose and outcome in FAILURES:
                    print(f"#{index} {command} {outcome}: {detail}", flush=True)
    return counts


def summary(counts: collections.Counter) -> str:
    commands = sorted({c for c, _ in counts})
    rows = [f"{c:<8} " + "  ".join(f"{o} {counts[(c, o)]}" for o in OUTCOMES) for c in commands]
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0, help="deadline of one command (a hang beyond it)")
    arguments = parser.parse_args()
    print(summary(campaign(arguments.count, arguments.seed, arguments.seconds, verbose=True)))
