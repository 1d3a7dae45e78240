"""report.html: the front, every evaluated candidate and the parents on accuracy × log MACs, and a table.

Self-contained (inline SVG, no scripts, no external files), so it opens anywhere the run folder goes.
"""

from __future__ import annotations

import html
import math

from stitchc.evolve.objectives import Evaluation

from .report import Row

WIDTH, HEIGHT, MARGIN = 720, 420, 56


def _scales(points: list[tuple[int, float]]):
    macs = [math.log10(max(m, 1)) for m, _ in points]
    accuracy = [a for _, a in points]
    low_x, high_x = min(macs) - 0.05, max(macs) + 0.05
    low_y, high_y = max(0.0, min(accuracy) - 0.02), min(1.0, max(accuracy) + 0.02)
    if high_y <= low_y:
        low_y, high_y = low_y - 0.01, high_y + 0.01

    def x(m: int) -> float:
        return MARGIN + (math.log10(max(m, 1)) - low_x) / (high_x - low_x) * (WIDTH - 2 * MARGIN)

    def y(a: float) -> float:
        return HEIGHT - MARGIN - (a - low_y) / (high_y - low_y) * (HEIGHT - 2 * MARGIN)

    return x, y, (low_x, high_x), (low_y, high_y)


def _axes(x_range, y_range) -> list[str]:
    parts = [
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#444"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#444"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 14}" text-anchor="middle">MACs (log scale)</text>',
        f'<text x="16" y="{HEIGHT / 2}" transform="rotate(-90 16 {HEIGHT / 2})" text-anchor="middle">'
        f"validation accuracy</text>",
    ]
    for power in range(math.floor(x_range[0]), math.ceil(x_range[1]) + 1):
        for mantissa in (1, 2, 5):
            tick = power + math.log10(mantissa)
            if x_range[0] <= tick <= x_range[1]:
                left = MARGIN + (tick - x_range[0]) / (x_range[1] - x_range[0]) * (WIDTH - 2 * MARGIN)
                parts.append(
                    f'<text x="{left:.1f}" y="{HEIGHT - MARGIN + 18}" text-anchor="middle">{mantissa}e{power}</text>'
                )
    for step in range(5):
        value = y_range[0] + step * (y_range[1] - y_range[0]) / 4
        top = HEIGHT - MARGIN - step * (HEIGHT - 2 * MARGIN) / 4
        parts.append(f'<text x="{MARGIN - 6}" y="{top + 4:.1f}" text-anchor="end">{value:.3f}</text>')
    return parts


def _table_row(row: Row) -> str:
    choices = ", ".join([f"{k}={v}" for k, v in row.choices.items()] + list(row.program))
    return (
        f"<tr><td>{html.escape(row.label)}</td><td>{row.macs:,}</td><td>{row.params:,}</td>"
        f"<td>{row.val_accuracy:.4f}</td><td>{row.test_accuracy:.4f}</td><td>{html.escape(choices)}</td></tr>"
    )


def render(search: str, archive: list[Evaluation], parents: list[Row], front: list[Row], hypervolume: float) -> str:
    x, y, x_range, y_range = _scales(
        [(e.macs, e.accuracy) for e in archive] + [(r.macs, r.val_accuracy) for r in parents]
    )
    svg = _axes(x_range, y_range)
    svg += [
        f'<circle class="candidate" cx="{x(e.macs):.1f}" cy="{y(e.accuracy):.1f}" r="2.5" fill="#bbb"/>'
        for e in archive
    ]
    path = " ".join(f"{x(r.macs):.1f},{y(r.val_accuracy):.1f}" for r in front)
    svg.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
    svg += [
        f'<circle class="front" cx="{x(r.macs):.1f}" cy="{y(r.val_accuracy):.1f}" r="4.5" fill="#1f5fbf">'
        f"<title>{html.escape(r.label)}: {r.val_accuracy:.4f} at {r.macs:,} MACs</title></circle>"
        for r in front
    ]
    for row in parents:
        svg.append(
            f'<rect class="parent" x="{x(row.macs) - 5:.1f}" y="{y(row.val_accuracy) - 5:.1f}" width="10" '
            f'height="10" fill="#c0392b"/><text x="{x(row.macs) + 8:.1f}" y="{y(row.val_accuracy) - 8:.1f}">'
            f"{html.escape(row.parent or '')}</text>"
        )
    rows = "".join(_table_row(r) for r in [*parents, *front])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>stitchc: {html.escape(search)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:2px 10px;text-align:right}}
td:last-child{{text-align:left}} svg text{{font-size:12px}}</style></head><body>
<h1>Search {html.escape(search)}</h1>
<p>{len(archive)} candidates evaluated (grey), {len(front)} on the Pareto front (blue), parents in red.
Hypervolume (accuracy × log MACs box): {hypervolume:.4f}.</p>
<svg width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">{"".join(svg)}</svg>
<table><tr><th>model</th><th>MACs</th><th>params</th><th>val acc</th><th>test acc</th><th>choices</th></tr>
{rows}</table>
</body></html>
"""
