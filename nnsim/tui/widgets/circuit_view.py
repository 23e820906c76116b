"""CircuitView: a circuit as boxes and wires (value and gradient in each box), scrollable.

The layout comes from the headless `nnsim.circuits.draw`; this widget colours it: the gate the
walk is at is lit (blue in the forward pass, orange in the backward pass, with the wires the
numbers travel along), the selected node has a yellow frame, numbers not computed yet are dim.
Arrows move the selection through the nodes in topological order.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from nnsim.circuits import Circuit, Walk
from nnsim.circuits.draw import BOX_H, BOX_W, Layout, layout, render

from ._common import ACCENT, BLUE, ORANGE, StyleCache

DIM = (110, 110, 110)
TEXT = (225, 225, 225)
GRAD = (190, 140, 255)
WIRE = (95, 95, 95)


class CircuitView(ScrollView, can_focus=True):
    """The circuit; ←/↑ and →/↓ select the previous / next node, enter re-announces it."""

    DEFAULT_CSS = """
    CircuitView {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    BINDINGS = [
        Binding("left,up", "move(-1)", "Previous node", show=False),
        Binding("right,down", "move(1)", "Next node", show=False),
        Binding("home", "jump(0)", "First node", show=False),
        Binding("end", "jump(-1)", "Output", show=False),
    ]

    class NodeSelected(Message):
        """The selection moved to node `index`."""

        def __init__(self, view: "CircuitView", index: int) -> None:
            self.view = view
            self.index = index
            super().__init__()

        @property
        def control(self) -> "CircuitView":
            return self.view

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.circuit: Circuit | None = None
        self.walk: Walk | None = None
        self.selected = 0
        self._layout: Layout | None = None
        self._styles = StyleCache()
        self._strips: list[Strip] = []

    # -- public API ----------------------------------------------------------------------------
    def show(self, circuit: Circuit, walk: Walk) -> None:
        """Draw `circuit` as the walk has computed it (call again after every step)."""
        if circuit is not self.circuit:
            self.circuit = circuit
            self._layout = layout(circuit)
            self.virtual_size = Size(self._layout.width, self._layout.height)
            self.selected = min(self.selected, len(circuit.nodes) - 1)
        self.walk = walk
        self._build()
        self.refresh()

    def select(self, index: int, scroll: bool = True) -> None:
        """Select node `index` (no message) and scroll it into view."""
        if self.circuit is None:
            return
        self.selected = max(0, min(len(self.circuit.nodes) - 1, index))
        self._build()
        self.refresh()
        if scroll:
            self.reveal(self.selected)

    def reveal(self, index: int) -> None:
        if self._layout is None or index not in self._layout.boxes:
            return
        x, y = self._layout.boxes[index]
        self.scroll_to_region(Region(x, y, BOX_W, BOX_H), animate=False, force=True)

    def text_lines(self) -> list[str]:
        """The drawing as plain text (tests)."""
        return ["".join(seg.text for seg in strip) for strip in self._strips]

    # -- input ---------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.circuit is None:
            return
        self.select(self.selected + delta)
        self.post_message(self.NodeSelected(self, self.selected))

    def action_jump(self, index: int) -> None:
        if self.circuit is None:
            return
        self.select(index % len(self.circuit.nodes))
        self.post_message(self.NodeSelected(self, self.selected))

    def on_click(self, event: events.Click) -> None:
        if self._layout is None:
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x, y = offset.x + int(self.scroll_offset.x), offset.y + int(self.scroll_offset.y)
        for i, (bx, by) in self._layout.boxes.items():
            if bx <= x < bx + BOX_W and by <= y < by + BOX_H:
                self.select(i, scroll=False)
                self.post_message(self.NodeSelected(self, i))
                return

    # -- drawing -------------------------------------------------------------------------------
    def _lit(self) -> tuple[int | None, str, set[tuple[int, int]]]:
        """(the walk's gate, "forward"/"backward"/"", the wires its numbers travel along)."""
        if self.walk is None or self.circuit is None:
            return None, "", set()
        phase = self.walk.phase
        if phase.gate is None:
            return None, "", set()
        g = phase.gate
        wires = {(w.node if w.node is not None else -1, g) for w in self.circuit.nodes[g].wires}
        return g, phase.kind, wires

    def _build(self) -> None:
        c, walk, lay = self.circuit, self.walk, self._layout
        if c is None or walk is None or lay is None:
            self._strips = []
            return
        canvas = render(c, lay, walk.value, walk.grad)
        gate, kind, wires = self._lit()
        lit_colour = BLUE if kind == "forward" else ORANGE
        get = self._styles.get
        strips = []
        for y, row in enumerate(canvas.chars):
            segments: list[Segment] = []
            for x, ch in enumerate(row):
                who = canvas.owner[y][x]
                style = self._style(who, gate, lit_colour, wires, walk, get)
                if segments and segments[-1].style is style:
                    segments[-1] = Segment(segments[-1].text + ch, style)
                else:
                    segments.append(Segment(ch, style))
            strips.append(Strip(segments, lay.width))
        self._strips = strips

    def _style(self, who, gate, lit_colour, wires, walk: Walk, get) -> Style | None:
        if who is None:
            return None
        if who[0] == "wire":
            if (who[1], who[2]) in wires:
                return get(lit_colour, bold=True)
            return get(WIRE)
        _, i, part = who
        if part == "border" or part == "name":
            if i == self.selected:
                return get(ACCENT, bold=True)
            if i == gate:
                return get(lit_colour, bold=True)
            return get(TEXT if part == "name" else DIM, bold=part == "name")
        if part == "value":
            return get(TEXT if walk.value(i) is not None else DIM)
        return get(GRAD if walk.grad(i) is not None else DIM, bold=walk.grad_final(i))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = y + int(scroll_y)
        width = self.size.width
        if row >= len(self._strips):
            return Strip.blank(width)
        return self._strips[row].crop(int(scroll_x), int(scroll_x) + width).extend_cell_length(width)

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()
