"""External tensor data of an ONNX model: resolved only inside the model's folder, checked, then loaded.

Guarantees: a location that is absolute or resolves (symlinks included) outside the folder holding the
model is refused before any file is opened; a missing file or one shorter than the declared range is a
ModelLoadError naming the model and the location.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import onnx
from onnx import external_data_helper

from .errors import ModelLoadError


def load_external_data(model: onnx.ModelProto, path: str) -> None:
    """Fills every externally stored tensor of `model` (read from `path`) in place, after checking it."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    external = [t for t in _tensors(model.graph) if external_data_helper.uses_external_data(t)]
    for tensor in external:
        _check(tensor, folder, path)
    if external:
        external_data_helper.load_external_data_for_model(model, folder)


def _check(tensor: onnx.TensorProto, folder: str, path: str) -> None:
    info = external_data_helper.ExternalDataInfo(tensor)
    location = info.location
    target = os.path.realpath(os.path.join(folder, location))
    if os.path.isabs(location) or os.path.commonpath([folder, target]) != folder:
        raise ModelLoadError(
            path, f"external data path '{location}' of tensor '{tensor.name}' leaves the model's folder"
        )
    if not os.path.isfile(target):
        raise ModelLoadError(path, f"missing external data file '{location}' for tensor '{tensor.name}'")
    end = (info.offset or 0) + (info.length or 0)
    if end > os.path.getsize(target):
        raise ModelLoadError(path, f"external data file '{location}' is shorter than tensor '{tensor.name}' needs")


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Initializers and tensor attributes of `graph` and of all its subgraphs."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            for subgraph in [attribute.g, *attribute.graphs] if attribute.HasField("g") else attribute.graphs:
                yield from _tensors(subgraph)
