"""Text fields of a parsed protobuf that are not valid UTF-8.

onnx's protobuf messages are proto2: a string field holding invalid UTF-8 parses without complaint and reads back
as `bytes`, which code expecting `str` (names, op types, domains) then trips over. Guarantee: `invalid_text`
finds such a field at any depth and names the first by its path (`graph.node[1].name`); byte and number fields
(tensor data) are never read.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_TEXT, _MESSAGE = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE


def invalid_text(message: Message, path: str = "") -> str | None:
    """The path of the first string field of `message` (at any depth) that is not valid UTF-8, else None."""
    for field, value in message.ListFields():
        if field.type not in (_TEXT, _MESSAGE):
            continue
        where = f"{path}.{field.name}" if path else field.name
        items = enumerate(value) if field.is_repeated else [(None, value)]
        for index, item in items:
            at = where if index is None else f"{where}[{index}]"
            found = (None if isinstance(item, str) else at) if field.type == _TEXT else invalid_text(item, at)
            if found:
                return found
    return None
