"""Diagnostics: `file:line:col: error: message`, the source line, a caret under the span, an optional hint."""

from __future__ import annotations

from dataclasses import dataclass

from stitchc.ir.printable import printable

from .ast import Span


@dataclass(frozen=True)
class Diagnostic:
    file: str
    span: Span
    message: str
    hint: str | None = None
    severity: str = "error"  # or "warning", "note": said, but the spec still checks

    def render(self, source: str | None) -> str:
        """The rendered diagnostic; control characters from the spec (in names, strings, the line) are shown
        escaped (`\\x1b`), so a spec cannot drive the terminal."""
        head = f"{self.file}:{self.span.line}:{self.span.column}: {self.severity}: {self.message}"
        lines = [printable(head)]
        text = (
            source.splitlines()[self.span.line - 1]
            if source and 0 < self.span.line <= len(source.splitlines())
            else None
        )
        if text is not None:
            start = self.span.column - 1
            end = self.span.end_column - 1 if self.span.end_line == self.span.line else start + 1
            before, under = printable(text[:start]), printable(text[start:end])
            lines.append(f"    {printable(text)}")
            lines.append("    " + " " * len(before) + "^" + "~" * max(len(under) - 1, 0))
        if self.hint:
            lines.append(printable(f"    hint: {self.hint}"))
        return "\n".join(lines)


class SpecError(Exception):
    """One or more diagnostics about a spec; `source` is the spec text for rendering."""

    def __init__(self, diagnostics: list[Diagnostic], source: str | None = None, sources: dict[str, str] | None = None):
        super().__init__(diagnostics[0].message if diagnostics else "spec error")
        self.diagnostics = diagnostics
        self.source = source
        self.sources = dict(sources or {})  # file -> text, for diagnostics located in imported files

    def render(self) -> str:
        return "\n".join(d.render(self.sources.get(d.file, self.source)) for d in self.diagnostics)


def point_span(line: int, column: int) -> Span:
    return Span(line, column, line, column + 1)


def not_executed(file: str, span: Span, what: str) -> Diagnostic:
    """The note that `what` runs user code, so `check --no-exec` neither ran nor validated it."""
    return Diagnostic(file, span, f"{what}: not executed (--no-exec)", severity="note")
