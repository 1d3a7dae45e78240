"""ONNX Runtime sessions for IR graphs: weights handed over without serialising them, sessions reused while
the graph is the same.

A graph is lowered with its weights left out of the proto (`to_onnx(external=...)`: placeholders marked as
external data); ONNX Runtime receives them as OrtValues over the graph's own arrays
(`SessionOptions.add_external_initializers`), so creating a session costs the graph's structure only, and
weights shared by many candidates (the parents') are not copied per candidate.

Sessions are kept in a small LRU (SESSIONS entries) keyed by the structural hash of the lowered graph (the
proto without weights: ops, attributes, names, types, small constants), the identity of every weight array
handed over, and the thread count. The IR never writes an array in place (a change assigns a new one, see
Graph), so the same key means the same computation; an entry holds its arrays, so their ids stay theirs.
Guarantee: outputs bit-identical to a session on the fully serialised model (tests/test_session_cache.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from .graph import Graph
from .onnx_lower import to_onnx

SESSIONS = 8  # sessions kept per process (each holds ORT's own buffers; weights are the graph's)

_sessions: OrderedDict[tuple, tuple] = OrderedDict()  # key -> (session, the weight arrays of the key)
_lock = threading.Lock()


def cached_session(graph: Graph, threads: int, create: Callable[[bytes, int, list[str], list[np.ndarray]], object]):
    """The session of `graph` from the cache, or `create(model bytes, threads, names, arrays)` stored there."""
    weights: dict[str, np.ndarray] = {}
    model = to_onnx(graph, external=weights).SerializeToString(deterministic=True)
    key = (
        hashlib.blake2b(model, digest_size=16).digest(),
        tuple((name, id(array)) for name, array in weights.items()),
        threads,
    )
    with _lock:
        if key in _sessions:
            _sessions.move_to_end(key)
            return _sessions[key][0]
    arrays = [np.ascontiguousarray(a) for a in weights.values()]
    created = create(model, threads, list(weights), arrays)
    with _lock:
        _sessions[key] = (created, list(weights.values()))  # their ids stay theirs while the entry lives
        while len(_sessions) > SESSIONS:
            _sessions.popitem(last=False)
    return created


def clear_sessions() -> None:
    """Forgets every cached session (the next request creates a new one)."""
    with _lock:
        _sessions.clear()
