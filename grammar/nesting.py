"""A bound on how deeply a spec nests, checked before anything recurses over it.

Lark's tree building, the AST transformer and the checker all recurse once per level; Python's stack holds
about a thousand frames. A spec nesting brackets deeper than MAX_BRACKETS, or whose parse tree is deeper than
MAX_TREE (long operator chains such as `1 + 1 + ... + 1`), is refused with a located error instead."""

from __future__ import annotations

from lark import Tree

from .diagnostics import Diagnostic, point_span

MAX_BRACKETS = 64
MAX_TREE = 200
OPENING, CLOSING = "([{", ")]}"


def bracket_depth_error(source: str, file: str) -> Diagnostic | None:
    """The diagnostic at the bracket that opens level MAX_BRACKETS + 1 (strings and comments skipped), or None."""
    depth, line, column, inside = 0, 1, 0, None  # inside: '"' in a string, '#' in a comment
    for char in source:
        column += 1
        if char == "\n":
            line, column, inside = line + 1, 0, None
        elif inside == '"' and char == '"' or inside is None and char in '"#':
            inside = None if inside else char
        elif inside is None and char in OPENING:
            depth += 1
            if depth > MAX_BRACKETS:
                return Diagnostic(file, point_span(line, column), f"brackets nest deeper than {MAX_BRACKETS} levels")
        elif inside is None and char in CLOSING:
            depth = max(depth - 1, 0)
    return None


def tree_depth_error(tree: Tree, file: str) -> Diagnostic | None:
    """The diagnostic at the leftmost subtree deeper than MAX_TREE levels (an iterative walk), or None."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE:
            meta = node.meta
            line, column = (meta.line, meta.column) if not meta.empty else (1, 1)
            return Diagnostic(file, point_span(line, column), f"expression nests deeper than {MAX_TREE} levels")
        stack += reversed([(child, depth + 1) for child in node.children if isinstance(child, Tree)])  # leftmost first
    return None
