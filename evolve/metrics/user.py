"""User metrics: `metric NAME = python("file.py:function")`, called as function(scores, labels) -> float."""

from __future__ import annotations

import math
import numbers

import numpy as np

from stitchc.grammar.program import MetricSpec
from stitchc.grammar.python_function import FunctionLoadError, load_function
from stitchc.ir.user_code import UserCodeError, call_user


class MetricError(Exception):
    """A user metric failed or returned something other than a finite number; one line: the file, the cause."""


def user_metric(spec: MetricSpec, scores: np.ndarray, labels: np.ndarray) -> float:
    """The function's value as a float; raises MetricError naming the file when it cannot be loaded, raises,
    or returns a non-number, NaN or an infinity (the search could not rank such values)."""
    where = f"{spec.path}: {spec.function}"
    try:
        function = load_function(spec.path, spec.function)
    except FunctionLoadError as error:
        raise MetricError(f"{spec.path}: {error}") from None
    try:
        value = call_user(spec.path, function, scores, labels)
    except UserCodeError as error:  # user code may raise (or exit with) anything; it is reported in one line
        raise MetricError(f"{where} raised {error.cause}") from None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MetricError(f"{where} returned {type(value).__name__} {_short(value)}, not a number")
    if not math.isfinite(value):
        raise MetricError(f"{where} returned {float(value)}, not a finite number")
    return float(value)


def _short(value: object) -> str:
    text = repr(value).splitlines()[0] if repr(value) else ""
    return text if len(text) <= 40 else text[:37] + "..."
