"""Lay a circuit out as boxes and wires on a character grid (for the app and `nnsim check`).

Inputs sit left, the output right; each gate is one column further right than the furthest of
its inputs (an input sits just left of the first gate that reads it). A wire that skips columns
passes through them as a straight line. Each box shows the node's name, its op and value, and
its gradient:

    ╭x───────────╮    ╭mul1────────╮    ╭add1────────╮
    │= -2        ├──┐ │× = -6      ├───▶│+ = -2      │
    │∇ -4        │  └▶│∇ -4        │ ┌─▶│∇ 1         │
    ╰────────────╯    ╰────────────╯ │  ╰────────────╯

Headless: `layout()` places things once; `render()` fills in numbers and returns the grid with,
for every cell, what it belongs to (a box, a wire), so the app can colour it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .graph import Circuit

BOX_W = 14           # box width, borders included
BOX_H = 4            # top border, value row, gradient row, bottom border
MINUS = "-"

# line bits: up, down, left, right
_U, _D, _L, _R = 1, 2, 4, 8
_LINES = {
    _L | _R: "─", _U | _D: "│", _D | _R: "┌", _D | _L: "┐", _U | _R: "└", _U | _L: "┘",
    _U | _D | _R: "├", _U | _D | _L: "┤", _D | _L | _R: "┬", _U | _L | _R: "┴",
    _U | _D | _L | _R: "┼", _L: "─", _R: "─", _U: "│", _D: "│",
}


def fit(value: float | None, width: int) -> str:
    """A number in at most `width` characters (4 significant digits when there is room)."""
    if value is None:
        return "?"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    for text in (f"{value:.4g}", f"{value:.3g}", f"{value:.2g}", f"{value:.1e}", f"{value:.0e}"):
        if len(text) <= width:
            return text
    return text[:width]


@dataclass
class _Item:
    """A box (node >= 0) or a pass-through point of a long wire (node = -1) in one column."""

    node: int
    edge: int = -1          # for pass-through points: which edge
    top: int = 0
    order: float = 0.0

    @property
    def height(self) -> int:
        return BOX_H if self.node >= 0 else 1

    def out_row(self) -> int:
        return self.top + 1 if self.node >= 0 else self.top

    def in_row(self, port: int) -> int:
        return self.top + 1 + port if self.node >= 0 else self.top


@dataclass(frozen=True)
class _Edge:
    src: int
    dst: int
    port: int


@dataclass
class Layout:
    """Where everything goes: box positions, wire cells (with their line bits), labels."""

    width: int
    height: int
    boxes: dict[int, tuple[int, int]]                      # node -> (x, y) of its top-left corner
    wires: dict[tuple[int, int], tuple[int, tuple[int, int]]] = field(default_factory=dict)
    """(x, y) -> (line bits, (src node, dst node))."""
    arrows: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    labels: list[tuple[int, int, str, tuple[int, int]]] = field(default_factory=list)
    """(x, y, text, (src, dst)): constants written at the port they feed (src = -1)."""
    ports: set[tuple[int, int]] = field(default_factory=set)
    """Right-border cells where a wire leaves a box."""


def _columns(c: Circuit) -> list[int]:
    col = [0] * len(c.nodes)
    for i in c.gates:
        col[i] = 1 + max((col[w.node] for w in c.nodes[i].wires if w.node is not None), default=-1)
    for i, node in enumerate(c.nodes):
        if node.is_input:
            readers = c.consumers(i)
            col[i] = max(0, min(col[r] for r in readers) - 1) if readers else 0
    return col


def layout(c: Circuit) -> Layout:
    """Place the boxes and route the wires of circuit `c`."""
    col = _columns(c)
    n_cols = max(col) + 1
    edges = [_Edge(w.node, j, k) for j in c.gates for k, w in enumerate(c.nodes[j].wires) if w.node is not None]
    columns: list[list[_Item]] = [[] for _ in range(n_cols)]
    item_of: dict[int, _Item] = {}
    for i in range(len(c.nodes)):
        item_of[i] = _Item(i, order=i)
        columns[col[i]].append(item_of[i])
    # chain[e] = the items an edge passes through, source first, destination last
    chain: list[list[_Item]] = []
    for e_id, e in enumerate(edges):
        path = [item_of[e.src]]
        for k in range(col[e.src] + 1, col[e.dst]):
            point = _Item(-1, e_id, order=e.src + 0.5)
            columns[k].append(point)
            path.append(point)
        path.append(item_of[e.dst])
        chain.append(path)
    preds: dict[int, list[_Item]] = {}
    succs: dict[int, list[_Item]] = {}
    port_of: dict[tuple[int, int], int] = {}          # (id(from), id(to)) -> the input it feeds
    for path, e in zip(chain, edges):
        for a, b in zip(path, path[1:]):
            preds.setdefault(id(b), []).append(a)
            succs.setdefault(id(a), []).append(b)
            port_of[(id(a), id(b))] = e.port if b is path[-1] else 0
    # order within columns: a few barycentre sweeps, right then left (what feeds input a of a
    # gate goes above what feeds input b)
    for _ in range(3):
        for sweep, links in ((range(1, n_cols), preds), (range(n_cols - 2, -1, -1), succs)):
            for k in sweep:
                for col in (columns[k - 1] if links is preds else columns[k + 1],):
                    pos = {id(x): p for p, x in enumerate(col)}
                for it in columns[k]:
                    near = links.get(id(it))
                    if near and links is preds:
                        it.order = sum(pos[id(x)] for x in near) / len(near)
                    elif near:
                        it.order = sum(pos[id(x)] + 0.3 * port_of[(id(it), id(x))] for x in near) / len(near)
                columns[k].sort(key=lambda it: it.order)
                for p, it in enumerate(columns[k]):
                    it.order = p

    def pack(items: list[_Item], want: dict[int, float]) -> None:
        floor = 0
        for it in items:
            it.top = max(floor, round(want.get(id(it), floor)))
            floor = it.top + it.height + 1

    def from_left(k: int) -> None:
        """Align each item with what feeds it (sources keep their row)."""
        want: dict[int, float] = {}
        for it in columns[k]:
            near = preds.get(id(it))
            if not near:
                want[id(it)] = it.top
            elif it.node < 0:
                want[id(it)] = near[0].out_row()
            else:
                want[id(it)] = sum(p.out_row() - 1 - port_of[(id(p), id(it))] for p in near) / len(near)
        pack(columns[k], want)

    def from_right(k: int) -> None:
        """Align each source (an input, nothing feeding it) with what it feeds."""
        want: dict[int, float] = {}
        for it in columns[k]:
            near = succs.get(id(it))
            if preds.get(id(it)) or not near:
                want[id(it)] = it.top
            else:
                rows = [s.in_row(port_of[(id(it), id(s))]) - (1 if it.node >= 0 else 0) for s in near]
                want[id(it)] = sum(rows) / len(rows)
        pack(columns[k], want)

    for k in range(n_cols):
        from_left(k)
    for k in range(n_cols - 2, -1, -1):
        from_right(k)
    for k in range(n_cols):
        from_left(k)
    shift = min((it.top for col in columns for it in col), default=0)
    for col in columns:
        for it in col:
            it.top -= shift
    return _route(c, columns, chain, edges, n_cols)


def _route(c: Circuit, columns: list[list[_Item]], chain: list[list[_Item]], edges: list[_Edge],
           n_cols: int) -> Layout:
    """Column x positions (each gap wide enough for its lanes), then every wire's cells."""
    # hops[k]: (from item, to item, edge) between column k and k + 1
    hops: list[list[tuple[_Item, _Item, int]]] = [[] for _ in range(n_cols)]
    for e_id, path in enumerate(chain):
        for a, b in zip(path, path[1:]):
            k = next(i for i, col in enumerate(columns) if any(x is a for x in col))
            hops[k].append((a, b, e_id))
    const_width = [0] * n_cols
    for j in c.gates:
        for w in c.nodes[j].wires:
            if w.node is None:
                k = next(i for i, col in enumerate(columns) if any(x.node == j for x in col))
                const_width[k] = max(const_width[k], len(f"{w.const:g}"))
    lanes: list[list[int]] = []                   # per gap: the source items (by id) needing a lane
    gap_w: list[int] = []
    for k in range(n_cols):
        bent: list[_Item] = []
        for a, b, e_id in hops[k]:
            if a.out_row() != b.in_row(edges[e_id].port if b is chain[e_id][-1] else 0) and a not in bent:
                bent.append(a)
        bent.sort(key=lambda it: it.out_row())
        lanes.append([id(a) for a in bent])
        const_need = const_width[k + 1] + 2 if k + 1 < n_cols else 0
        gap_w.append(max(3, len(bent) + 3, const_need))
    margin = const_width[0] + 2 if const_width[0] else 0
    xs, x = [], margin
    for k in range(n_cols):
        xs.append(x)
        x += BOX_W + gap_w[k]
    width = x - gap_w[-1]
    height = max((it.top + it.height for col in columns for it in col), default=0)
    out = Layout(width, height, {it.node: (xs[k], it.top) for k, col in enumerate(columns) for it in col
                                 if it.node >= 0})

    def mark(x: int, y: int, bits: int, owner: tuple[int, int]) -> None:
        old = out.wires.get((x, y), (0, owner))
        out.wires[(x, y)] = (old[0] | bits, old[1] if old[0] else owner)

    def hline(y: int, x0: int, x1: int, owner: tuple[int, int]) -> None:
        for xx in range(min(x0, x1), max(x0, x1) + 1):
            bits = (_L if xx > min(x0, x1) else 0) | (_R if xx < max(x0, x1) else 0)
            mark(xx, y, bits, owner)

    def vline(x: int, y0: int, y1: int, owner: tuple[int, int]) -> None:
        for yy in range(min(y0, y1), max(y0, y1) + 1):
            bits = (_U if yy > min(y0, y1) else 0) | (_D if yy < max(y0, y1) else 0)
            mark(x, yy, bits, owner)

    for k in range(n_cols):
        for it in columns[k]:                   # pass-through points: a straight line
            if it.node < 0:
                e = edges[it.edge]
                hline(it.top, xs[k], xs[k] + BOX_W - 1, (e.src, e.dst))
        left = xs[k] + BOX_W                    # first cell of the gap
        for a, b, e_id in hops[k]:
            e = edges[e_id]
            owner = (e.src, e.dst)
            final = b is chain[e_id][-1]
            y0, y1 = a.out_row(), b.in_row(e.port if final else 0)
            end = xs[k + 1] - 1 if final else xs[k + 1]
            if a.node >= 0:
                out.ports.add((left - 1, y0))
            if id(a) in lanes[k]:
                lx = left + 1 + lanes[k].index(id(a))
                hline(y0, left, lx, owner)
                vline(lx, y0, y1, owner)
                hline(y1, lx, end, owner)
            else:
                hline(y0, left, end, owner)
            if final:
                out.arrows[(end, y1)] = owner
    for j in c.gates:
        x0, y0 = out.boxes[j]
        for port, w in enumerate(c.nodes[j].wires):
            if w.node is None:
                text = f"{w.const:g}"
                out.labels.append((x0 - 1 - len(text), y0 + 1 + port, text, (-1, j)))
                out.arrows[(x0 - 1, y0 + 1 + port)] = (-1, j)
    return out


@dataclass
class Canvas:
    """The drawn grid: characters, and per cell what it belongs to.

    `owner[y][x]` is None (blank), ("box", node, part) with part "border", "name", "value" or
    "grad", or ("wire", src, dst) — src is -1 for a constant's label."""

    chars: list[list[str]]
    owner: list[list[tuple | None]]

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.chars]


Number = Callable[[int], "float | None"]


def render(c: Circuit, lay: Layout, value: Number | None = None, grad: Number | None = None) -> Canvas:
    """Draw with the numbers `value(i)` / `grad(i)` (None shows "?"); default: the circuit's."""
    value = value or (lambda i: c.nodes[i].value)
    grad = grad or (lambda i: c.nodes[i].grad)
    chars = [[" "] * lay.width for _ in range(lay.height)]
    owner: list[list[tuple | None]] = [[None] * lay.width for _ in range(lay.height)]

    def put(x: int, y: int, ch: str, who: tuple) -> None:
        if 0 <= y < lay.height and 0 <= x < lay.width:
            chars[y][x] = ch
            owner[y][x] = who

    for (x, y), (bits, (s, d)) in lay.wires.items():
        put(x, y, _LINES.get(bits, "·"), ("wire", s, d))
    for (x, y), (s, d) in lay.arrows.items():
        put(x, y, "▶", ("wire", s, d))
    for x, y, text, (s, d) in lay.labels:
        for k, ch in enumerate(text):
            put(x + k, y, ch, ("wire", s, d))
    inner = BOX_W - 2
    for i, (x, y) in lay.boxes.items():
        node = c.nodes[i]
        name = node.name[: inner - 1] + "…" if len(node.name) > inner else node.name
        top = "╭" + name + "─" * (inner - len(name)) + "╮"
        sym = "=" if node.is_input else f"{c.op(i).symbol} ="
        shown = fit(value(i), inner - len(sym) - 1)
        rows = [top, f"│{sym} {shown}".ljust(BOX_W - 1) + "│",
                f"│∇ {fit(grad(i), inner - 2)}".ljust(BOX_W - 1) + "│", "╰" + "─" * inner + "╯"]
        for dy, row in enumerate(rows):
            for dx, ch in enumerate(row):
                part = "border"
                if dy == 0 and 1 <= dx <= len(name):
                    part = "name"
                elif dy in (1, 2) and 1 <= dx < BOX_W - 1:
                    part = "value" if dy == 1 else "grad"
                put(x + dx, y + dy, ch, ("box", i, part))
    for x, y in lay.ports:
        if owner[y][x] and owner[y][x][0] == "box":
            put(x, y, "├", ("box", owner[y][x][1], "border"))
    return Canvas(chars, owner)


def draw_text(c: Circuit, value: Number | None = None, grad: Number | None = None) -> list[str]:
    """The circuit as plain text lines (what `nnsim check` prints)."""
    return render(c, layout(c), value, grad).lines()
