"""A diagram of an exported network (inline SVG): which nodes come from which parent, and where the stitches are.

Read from the ONNX model itself, so a run folder can be drawn again without its spec: the supernetwork names
every node of parent `p` `p/...`; every other node (a stitch `a.x->b.y` with its resampling, the ensemble
mean, nodes a program step added) is stitchc's own. Each parent has a lane, left to right in the order of
computation (a node's column is its depth: the longest path from the input); stitchc's nodes sit between the
lanes of the parents they join, drawn as diamonds. Hovering a node shows its name and op.
"""

from __future__ import annotations

import html

import onnx

COLORS = ("#1f5fbf", "#c0392b", "#8e44ad", "#d68910", "#16a085", "#7f8c8d")
STITCH_COLOR = "#27ae60"
STEP, LANE, LEFT, TOP = 22, 56, 90, 24


def owner(name: str, parents: list[str]) -> str | None:
    """The parent a node named `name` comes from, or None for stitchc's own nodes."""
    return next((p for p in parents if name.startswith(f"{p}/")), None)


def joined(name: str, parents: list[str]) -> list[str]:
    """The parents a stitch node joins (`a.relu1->b.relu2.pool` joins a and b); every parent for other nodes."""
    ends = [end.split(".")[0] for end in name.split("->")] if "->" in name else []
    return [p for p in parents if p in ends] or list(parents)


def depths(nodes) -> list[int]:
    """Each node's column: 0 for nodes reading only graph inputs and constants, else 1 + its inputs' deepest
    (nodes in topological order, as ONNX requires)."""
    made: dict[str, int] = {}
    result = []
    for index, node in enumerate(nodes):
        depth = max((result[made[name]] + 1 for name in node.input if name in made), default=0)
        result.append(depth)
        made.update({output: index for output in node.output})
    return result


def diagram(model: onnx.ModelProto, parents: list[str]) -> str:
    """The SVG of the model's nodes by parent lane, with its stitches and their edges."""
    nodes = list(model.graph.node)
    columns = depths(nodes)
    lane_y = {p: TOP + LANE * i for i, p in enumerate(parents)}
    taken: dict[tuple[float, int], int] = {}
    places = []
    for node, column in zip(nodes, columns):
        parent = owner(node.name, parents)
        lanes = [parent] if parent else joined(node.name, parents)
        y = sum(lane_y[p] for p in lanes) / len(lanes) + (0 if parent else LANE / 2 * (len(lanes) == 1))
        slot = taken.get((y, column), 0)
        taken[(y, column)] = slot + 1
        places.append((LEFT + STEP * column, y + 9 * slot, parent))
    made = {output: index for index, node in enumerate(nodes) for output in node.output}
    edges = [
        _edge(places[made[name]], place) for node, place in zip(nodes, places) for name in node.input if name in made
    ]
    marks = [_node(node, place, parents) for node, place in zip(nodes, places)]
    labels = [
        f'<text x="{LEFT - 12}" y="{lane_y[p] + 4}" text-anchor="end" fill="{_color(p, parents)}">{html.escape(p)}</text>'
        for p in parents
    ]
    width = LEFT + STEP * (max(columns, default=0) + 1) + 20
    height = int(max([y for _, y, _ in places] + list(lane_y.values())) + 30)
    body = "".join(labels + edges + marks)
    return f'<svg class="diagram" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'


def _color(parent: str | None, parents: list[str]) -> str:
    return COLORS[parents.index(parent) % len(COLORS)] if parent else STITCH_COLOR


def _edge(source: tuple, target: tuple) -> str:
    across = source[2] != target[2]
    stroke = STITCH_COLOR if across else "#999"
    return (
        f'<line x1="{source[0]:.1f}" y1="{source[1]:.1f}" x2="{target[0]:.1f}" y2="{target[1]:.1f}" '
        f'stroke="{stroke}" stroke-width="{1.5 if across else 1}"/>'
    )


def _node(node, place: tuple, parents: list[str]) -> str:
    x, y, parent = place
    title = f"<title>{html.escape(node.name or node.op_type)} ({html.escape(node.op_type)})</title>"
    if parent is None:
        return (
            f'<rect class="stitch" x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{STITCH_COLOR}" '
            f'transform="rotate(45 {x:.1f} {y:.1f})">{title}</rect>'
        )
    return (
        f'<rect class="node" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" rx="2" '
        f'fill="{_color(parent, parents)}">{title}</rect>'
    )
