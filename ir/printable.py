"""Text from files made safe for a terminal: the one place control characters are escaped.

Names, messages and source lines read from models and specs may hold terminal escape sequences (a screen
clear, a forged "all checks passed", a carriage return that overwrites a line) or invisible formatting
characters (a right-to-left override that shows a name reversed). Guarantee: `printable(text)` holds no
character that str.isprintable() rejects but tab: no C0 or C1 control, no DEL, no format or line-separator
character; each is written as its Python escape (ESC -> `\\x1b`, CR -> `\\r`, U+009B -> `\\x9b`, U+202E ->
`\\u202e`), so the text shows, visibly, where the file held one. With `lines=True` newlines are kept (for text
whose line structure is stitchc's own, such as a report built line by line from escaped fields); otherwise a
newline is `\\n` too. Printable characters, non-ASCII ones included, are unchanged.
"""

from __future__ import annotations


def printable(text: object, lines: bool = False) -> str:
    """`str(text)` with every non-printable character (newlines too unless `lines`) escaped; tabs are kept."""
    text = str(text)
    if text.isprintable():
        return text
    kept = "\t\n" if lines else "\t"
    return "".join(c if c.isprintable() or c in kept else repr(c)[1:-1] for c in text)
