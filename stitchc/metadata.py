"""The provenance an exported model carries: which search and parents made it, its genome, its choices, its
objectives' values, and the stitchc version.

In an ONNX file it is `metadata_props`, one entry per field, keys `stitchc.<field>`, values JSON text (read
them with `{p.key: json.loads(p.value) for p in onnx.load(f).metadata_props}`); a `.pt2` carries the same
fields as one JSON object in its extra file `stitchc.json`. Guarantee: `read(with_metadata(m, f)) == f` for
JSON-serialisable fields, and the model's graph is untouched.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

import onnx

PREFIX = "stitchc."
EXTRA_FILE = "stitchc.json"  # the name of the metadata inside a .pt2 archive


def stitchc_version() -> str:
    try:
        return version("stitchc")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def with_metadata(model: onnx.ModelProto, fields: dict) -> onnx.ModelProto:
    """Replaces the model's stitchc metadata with `fields` (other metadata entries are kept); returns the model."""
    kept = [(p.key, p.value) for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    for key, value in kept:
        model.metadata_props.add(key=key, value=value)
    for key, value in fields.items():
        model.metadata_props.add(key=PREFIX + key, value=json.dumps(value, sort_keys=True))
    return model


def read(model: onnx.ModelProto) -> dict:
    """The stitchc fields of a model's metadata, decoded."""
    return {p.key[len(PREFIX) :]: json.loads(p.value) for p in model.metadata_props if p.key.startswith(PREFIX)}
