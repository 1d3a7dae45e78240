"""ONNX → IR → ONNX preserves the outputs of every model in the ONNX package's own backend test data.

The corpus: the node test cases (built in memory by the onnx package's case generators, the same cases
its data/node/*/model.onnx files are written from; those files are read too where present), the in-memory
model cases, and the model.onnx + test_data_set_* folders of data/simple, data/pytorch-converted and
data/pytorch-operator. Each original runs in ONNX Runtime; its outputs are the reference the round-tripped
model must reproduce (rtol 1e-4). A model is skipped only with a named reason.
"""

from __future__ import annotations

import collections
import glob
import os
import warnings

import numpy as np
import onnx
from onnx import numpy_helper

from stitchc.ir import ModelLoadError, from_onnx
from stitchc.ir.runtime import session

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
FOLDERS = ("node", "simple", "pytorch-converted", "pytorch-operator")


def generated_cases():
    """(name, model, [(inputs, outputs)]) from the onnx package's node and model case generators."""
    from onnx.backend.test.case import model as model_cases
    from onnx.backend.test.case import node as node_cases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases(None) + model_cases.collect_testcases()
    for case in cases:
        if case.model is not None:
            yield case.name, case.model, [(list(i), list(o)) for i, o in case.data_sets]


def file_cases(skip: set[str]):
    """(name, model, data sets) from data/<folder>/<test>/model.onnx with test_data_set_*/input_*.pb."""
    for folder in FOLDERS:
        for path in sorted(glob.glob(os.path.join(DATA, folder, "*", "model.onnx"))):
            name = os.path.basename(os.path.dirname(path))
            if name in skip:
                continue
            sets = [_read_set(d) for d in sorted(glob.glob(os.path.join(os.path.dirname(path), "test_data_set_*")))]
            yield f"{folder}/{name}", onnx.load(path), sets


def _read_set(folder: str):
    def read(kind):
        files = sorted(glob.glob(os.path.join(folder, f"{kind}_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
        return [numpy_helper.to_array(onnx.load_tensor(f)) for f in files]

    return read("input"), read("output")


def run(model: onnx.ModelProto, inputs: list):
    sess = session(model)
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, map(feedable, inputs))))


def feedable(value):
    """A case input as ORT's Python binding takes it: arrays, not numpy scalars or TensorProtos."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, list):
        return [feedable(v) for v in value]
    return value


def runnable(model: onnx.ModelProto) -> onnx.ModelProto:
    """The original with its IR version lowered to the minimum its opsets need when ORT reads no newer one.

    The generators stamp models with the onnx package's newest IR version; ORT may support every op of a
    model yet refuse that version number. Only the version stamp changes.
    """
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    minimum = onnx.helper.find_min_ir_version_for(list(model.opset_import), ignore_unknown=True)
    copy.ir_version = max(minimum, 8 if model.functions else minimum)
    return copy


def same(actual, expected) -> bool:
    if isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if expected is None or actual is None:
        return actual is None and expected is None
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return False
    if expected.dtype.kind in "fc":
        return np.allclose(actual, expected, rtol=1e-4, atol=1e-6, equal_nan=True)
    return np.array_equal(actual, expected)


def check(model: onnx.ModelProto, data_sets, restamped: bool = False) -> str | None:
    """None when the round trip preserves every output; else 'skip: reason' or 'fail: reason'."""
    try:
        references = [run(model, inputs) for inputs, _ in data_sets]
    except Exception as error:  # noqa: BLE001  (ORT's own error types vary)
        if "Unsupported model IR version" in str(error) and not restamped:
            return check(runnable(model), data_sets, restamped=True)
        if _default_opset(model) < 7:
            return "skip: ORT cannot run the original (opset below 7: ORT has no kernels for it)"
        return f"skip: ORT cannot run the original ({_kind(error)})"
    try:
        lowered = from_onnx(model, "m").to_onnx()
    except ModelLoadError as error:
        return f"fail: import: {error.cause}"
    try:
        results = [run(lowered, inputs) for inputs, _ in data_sets]
    except Exception as error:  # noqa: BLE001
        return f"fail: ORT cannot run the round-tripped model: {str(error).splitlines()[0][:200]}"
    if all(same(r, e) for r, e in zip(results, references)):
        return None
    again = [run(model, inputs) for inputs, _ in data_sets]
    if not all(same(a, e) for a, e in zip(again, references)):
        return "skip: the original is nondeterministic (two ORT runs differ)"
    return "fail: outputs differ"


def _default_opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _kind(error: Exception) -> str:
    text = str(error)
    for marker, reason in (
        ("Unsupported model IR version", "its opsets need an IR version newer than ORT reads"),
        ("ValidateOpsetForDomain", "opset newer than ORT supports"),
        ("is not a registered function/op", "op not registered in ORT"),
        ("Unable to handle object", "ORT's Python binding cannot feed this input element type"),
        ("can't be converted to MLDataType", "ORT's Python binding cannot feed bfloat16/float8/int4 inputs"),
        ("Batchwise recurrent", "ORT lacks batchwise (layout=1) RNNs"),
        ("locale", "ORT lacks the en_US locale here"),
        ("NOT_IMPLEMENTED", "ORT has no kernel for an op/type"),
        ("INVALID_GRAPH", "ORT rejects the graph"),
        ("Type Error", "ORT rejects the graph's types"),
        ("RUNTIME_EXCEPTION", "ORT fails at run time"),
        ("FAIL", "ORT fails at run time"),
    ):
        if marker in text:
            return reason
    return type(error).__name__


def test_backend_models_round_trip():
    outcomes: dict[str, list[str]] = collections.defaultdict(list)
    generated = list(generated_cases())
    for name, model, data_sets in [*generated, *file_cases({n for n, _, _ in generated})]:
        with np.errstate(all="ignore"):
            outcome = check(model, data_sets)
        outcomes[outcome or "pass"].append(name)
    print(f"\nONNX backend round trip: {len(outcomes['pass'])} pass")
    for reason, names in sorted(outcomes.items()):
        if reason != "pass":
            print(f"  {len(names):5d} {reason}: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''}")
    failures = {r: n for r, n in outcomes.items() if r.startswith("fail")}
    assert len(outcomes["pass"]) > 1000
    assert not failures, failures
