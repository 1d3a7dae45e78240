"""Text from files made safe for a terminal: the one place control characters are escaped.

Names, messages and source lines read from models and specs may hold terminal escape sequences (a screen
clear, a forged "all checks passed", a carriage return that overwrites a line). Guarantee: `printable(text)`
holds no C0 control character but tab, no DEL and no C1 control character: each is written as its Python
escape (ESC -> `\\x1b`, CR -> `\\r`, U+009B -> `\\x9b`), so the text shows, visibly, where the file held one.
With `lines=True` newlines are kept (for text whose line structure is stitchc's own, such as a report built line
by line from escaped fields); otherwise a newline is `\\n` too. Printable characters, non-ASCII ones included, are
unchanged.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def printable(text: object, lines: bool = False) -> str:
    """`str(text)` with every control character (newlines too unless `lines`) escaped; tabs are kept."""
    pattern = _CONTROL_BUT_NEWLINE if lines else _CONTROL
    return pattern.sub(_escape, str(text))


def _escape(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char, f"\\x{ord(char):02x}")
