"""report.html: every evaluated candidate, the front and the parents, plotted per pair of objectives, and a
table with every objective.

Two objectives give one plot (the second objective across, the first up, the front joined by a line); k
objectives give a plot for each of the k·(k−1)/2 pairs. Cost axes (MACs, params, latency) are logarithmic.
Self-contained (inline SVG, no scripts, no external files), so it opens anywhere the run folder goes.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from stitchc.evolve.objectives import Evaluation

from .report import Columns, Row

LARGE, SMALL, MARGIN = (720, 420), (380, 280), 56


@dataclass(frozen=True)
class _Scale:
    """Maps one objective's values to pixels between `start` and `end` (log10 values on a log axis)."""

    low: float
    high: float
    log: bool
    start: float
    end: float

    @staticmethod
    def fit(values: list[float], log: bool, start: float, end: float) -> _Scale:
        points = [_position(v, log) for v in values]
        low, high = min(points), max(points)
        pad = 0.05 if log else max(0.02 * (high - low), 1e-9)
        return _Scale(low - pad, high + pad, log, start, end)

    def __call__(self, value: float) -> float:
        return self.start + (_position(value, self.log) - self.low) / (self.high - self.low) * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        """(pixel, text): 1, 2 and 5 times powers of ten on a log axis, five even steps on a linear one."""
        if not self.log:
            steps = [self.low + s * (self.high - self.low) / 4 for s in range(5)]
            return [(self(v), f"{v:.3g}") for v in steps]
        ticks = []
        for power in range(math.floor(self.low), math.ceil(self.high) + 1):
            for mantissa in (1, 2, 5):
                tick = power + math.log10(mantissa)
                if self.low <= tick <= self.high:
                    ticks.append((self(10**tick), f"{mantissa}e{power}"))
        return ticks


def _position(value: float, log: bool) -> float:
    return math.log10(max(value, 1e-300)) if log else value


def _plot(columns: Columns, y: int, x: int, archive: list[Evaluation], parents, front, size, line: bool) -> str:
    """One SVG: objective `x` across, objective `y` up."""
    width, height = size
    logs = [a.log for a in columns.axes]
    values = [*archive, *parents]
    across = _Scale.fit([p.values[x] for p in values], logs[x], MARGIN, width - MARGIN)
    up = _Scale.fit([p.values[y] for p in values], logs[y], height - MARGIN, MARGIN)
    names = [o.label for o in columns.objectives]
    svg = _axes(across, up, names[x], names[y], width, height)
    svg += [
        f'<circle class="candidate" cx="{across(e.values[x]):.1f}" cy="{up(e.values[y]):.1f}" r="2.5" fill="#bbb">'
        f"{_candidate_title(e, names)}</circle>"
        for e in archive
    ]
    if line:
        path = " ".join(f"{across(r.values[x]):.1f},{up(r.values[y]):.1f}" for r in sorted(front, key=_at(x)))
        svg.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
    for row in front:
        summary = ", ".join(f"{n} {v:.6g}" for n, v in zip(names, row.values))
        svg.append(
            f'<circle class="front" cx="{across(row.values[x]):.1f}" cy="{up(row.values[y]):.1f}" r="4.5" '
            f'fill="#1f5fbf"><title>{html.escape(row.label)}: {html.escape(summary)}</title></circle>'
        )
    for row in parents:
        left, top = across(row.values[x]), up(row.values[y])
        svg.append(
            f'<rect class="parent" x="{left - 5:.1f}" y="{top - 5:.1f}" width="10" height="10" fill="#c0392b">'
            f"{_candidate_title(row, names)}</rect>"
            f'<text x="{left + 8:.1f}" y="{top - 8:.1f}">{html.escape(row.parent or "")}</text>'
        )
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(svg)}</svg>'


def _candidate_title(candidate: Evaluation | Row, names: list[str]) -> str:
    """The hover text of a point: its objectives, MACs, parameters and genome (and file or parent name)."""
    values = ", ".join(f"{n} {v:.6g}" for n, v in zip(names, candidate.values))
    name = f"{candidate.label}: " if isinstance(candidate, Row) else ""
    text = f"{name}{values}; {candidate.macs:,} MACs, {candidate.params:,} parameters; genome {list(candidate.genome)}"
    return f"<title>{html.escape(text)}</title>"


def _links(front: list[Row], files: list[str]) -> str:
    """Links to front.json, every exported model of the front and the other files given (relative: they sit
    beside report.html)."""
    names = ["front.json", *(row.label for row in front), *files]
    items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in dict.fromkeys(names))
    return f'<ul class="files">{items}</ul>'


def _diagrams(front: list[Row], models: list, parents: list[str]) -> str:
    """A diagram per front model: its parents' parts and its stitches."""
    from .front_diagram import COLORS, STITCH_COLOR, diagram

    key = "".join(
        f'<span style="color:{COLORS[i % len(COLORS)]}">&#9632; {html.escape(p)}</span> ' for i, p in enumerate(parents)
    )
    key += f'<span style="color:{STITCH_COLOR}">&#9670; stitch, ensemble and other stitchc nodes</span>'
    parts = [f'<p class="key">{key}</p>']
    for row, model in zip(front, models):
        parts.append(
            f'<h3><a href="{html.escape(row.label)}">{html.escape(row.label)}</a></h3>'
            f'<div class="scroll">{diagram(model, parents)}</div>'
        )
    return "\n".join(parts)


def _at(index: int):
    return lambda row: row.values[index]


def _axes(across: _Scale, up: _Scale, x_name: str, y_name: str, width: int, height: int) -> list[str]:
    parts = [
        f'<line x1="{MARGIN}" y1="{height - MARGIN}" x2="{width - MARGIN}" y2="{height - MARGIN}" stroke="#444"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{height - MARGIN}" stroke="#444"/>',
        (
            f'<text x="{width / 2}" y="{height - 14}" text-anchor="middle">{html.escape(x_name)}'
            f"{' (log scale)' if across.log else ''}</text>"
        ),
        (
            f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})" text-anchor="middle">'
            f"{html.escape(y_name)}{' (log scale)' if up.log else ''}</text>"
        ),
    ]
    parts += [
        f'<text x="{left:.1f}" y="{height - MARGIN + 18}" text-anchor="middle">{text}</text>'
        for left, text in across.ticks()
    ]
    parts += [f'<text x="{MARGIN - 6}" y="{top + 4:.1f}" text-anchor="end">{text}</text>' for top, text in up.ticks()]
    return parts


def _anytime(history: list[tuple[int, int, float]]) -> str:
    """The hypervolume against the number of candidates evaluated, one point per generation."""
    width, height = SMALL
    across = _Scale.fit([float(n) for _, n, _ in history], False, MARGIN, width - MARGIN)
    up = _Scale.fit([v for _, _, v in history], False, height - MARGIN, MARGIN)
    points = " ".join(f"{across(n):.1f},{up(v):.1f}" for _, n, v in history)
    svg = _axes(across, up, "candidates evaluated", "hypervolume", width, height)
    svg.append(f'<polyline class="anytime" points="{points}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
    svg += [
        f'<circle cx="{across(n):.1f}" cy="{up(v):.1f}" r="2.5" fill="#1f5fbf"><title>generation {g}: {n} '
        f"evaluated, hypervolume {v:.4f}</title></circle>"
        for g, n, v in history
    ]
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(svg)}</svg>'


def _anytime_by_evaluation(anytime: list[tuple[int, int, float]], evaluated: int) -> str:
    """The hypervolume as a step function of the distinct candidates evaluated (it rises only at a new
    candidate that improves the front), to the last candidate evaluated."""
    if not anytime:
        return ""
    width, height = SMALL
    across = _Scale.fit([float(anytime[0][0]), float(max(evaluated, anytime[-1][0]))], False, MARGIN, width - MARGIN)
    up = _Scale.fit([v for _, _, v in anytime], False, height - MARGIN, MARGIN)
    steps = [(anytime[0][0], anytime[0][2])]
    for (n, _, v), (_, _, before) in zip(anytime[1:], anytime):
        steps += [(n, before), (n, v)]
    steps.append((max(evaluated, anytime[-1][0]), anytime[-1][2]))
    points = " ".join(f"{across(n):.1f},{up(v):.1f}" for n, v in steps)
    svg = _axes(across, up, "distinct candidates evaluated", "hypervolume", width, height)
    svg.append(f'<polyline class="anytime-evaluations" points="{points}" fill="none" stroke="#bf5f1f"/>')
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(svg)}</svg>'


def _table_row(columns: Columns, row: Row) -> str:
    choices = ", ".join([f"{k}={v}" for k, v in row.choices.items()] + list(row.program))
    cells = "".join(f"<td>{cell}</td>" for cell in columns.cells(row))
    return f"<tr><td>{html.escape(row.label)}</td>{cells}<td>{html.escape(choices)}</td></tr>"


def render(
    search: str,
    columns: Columns,
    archive: list[Evaluation],
    parents: list[Row],
    front: list[Row],
    history: list[tuple[int, int, float]],
    models: list | None = None,
    files: list[str] = (),
    anytime: list[tuple[int, int, float]] = (),
) -> str:
    """The page; `history` is the hypervolume after each generation: (generation, evaluated, value); `models`
    the front's ONNX models (drawn when given); `files` more files of the run folder to link to; `anytime` where
    the hypervolume rose: (distinct evaluations, generation, value)."""
    count = len(columns.objectives)
    pairs = [(y, x) for y in range(count) for x in range(y + 1, count)]
    size = LARGE if count == 2 else SMALL
    plots = "\n".join(_plot(columns, y, x, archive, parents, front, size, count == 2) for y, x in pairs)
    header = "".join(f"<th>{html.escape(label)}</th>" for label in columns.labels)
    rows = "".join(_table_row(columns, r) for r in [*parents, *front])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>stitchc: {html.escape(search)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:2px 10px;text-align:right}}
td:last-child{{text-align:left}} svg text{{font-size:12px}} .scroll{{overflow-x:auto}}</style></head><body>
<h1>Search {html.escape(search)}</h1>
<p>{len(archive)} candidates evaluated (grey), {len(front)} on the Pareto front (blue), parents in red.
Hypervolume ({count} objectives, each between a fixed reference and ideal; see front.json): {history[-1][2]:.4f}.</p>
{plots}
<h2>Hypervolume as the search went on</h2>
{_anytime(history)}
{_anytime_by_evaluation(list(anytime), len(archive))}
<table><tr><th>model</th>{header}<th>choices</th></tr>
{rows}</table>
<h2>Files</h2>
{_links(front, list(files))}
{f"<h2>The front's networks</h2>{_diagrams(front, models, [r.parent for r in parents])}" if models else ""}
</body></html>
"""
