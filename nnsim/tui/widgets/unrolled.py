"""UnrolledView: a recurrent network unrolled along the time axis (the network view of networks
with SimpleRNN or LSTM layers).

One column per time step. From the top: the layers (the shown one highlighted) and the time
axis with the step cursor ▼; the input sequence x (one row per feature, or a heat map of them);
the recurrent layer's hidden state h of every unit as a heat map (two units per text row, the
upper one as the foreground of "▀"); for an LSTM the cursor unit's cell state c and its four
gates i, f, g, o; after a traced step the gradient norm ‖dL/dh‖ of every step (bars on a log
scale: vanishing shows as bars shrinking to the left, exploding as bars growing) and each
step's contribution to the weight gradients; a legend with the cursor's numbers. Sections that
do not fit the height are left out, lowest priority first.

It keeps NetworkView's interface (set_network, set_values, select, NeuronSelected), so the
workspace drives it as it drives the other network views; a unit of a recurrent layer is a
hidden unit (0 … units−1). PgUp PgDn move the step cursor (Home End: the first and last step),
↑ ↓ the unit, shift+← → the layer; `time_step` is the step the neuron card explains.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from textual.binding import Binding
from textual.strip import Strip

from nnsim.engine.network import Network
from nnsim.engine.trace import RecurrentTrace, StepTrace
from nnsim.engine.unroll import recurrent_trace

from ._common import ACCENT, StyleCache, diverging
from .feature_maps import _put, _to_strips
from .network_view import NetworkView

LABEL_W = 6          # "h 12 " and the like
DIM_RGB = (150, 150, 150)
BAR_RGB = (120, 200, 255)
BARS = "▁▂▃▄▅▆▇█"
RECURRENT = ("simple_rnn", "lstm")
SHORT = {"input": "x", "dense": "dense", "simple_rnn": "rnn", "lstm": "lstm", "flatten": "flat"}


class UnrolledView(NetworkView):
    """A recurrent network unrolled in time (see the module docstring)."""

    BINDINGS = [
        Binding("pageup", "step(-1)", "Step back", show=False),
        Binding("pagedown", "step(1)", "Step on", show=False),
        Binding("home", "step(-1000000)", "First step", show=False),
        Binding("end", "step(1000000)", "Last step", show=False),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._un_net: Network | None = None
        self._kinds: list[str] = []
        self._shapes: list[tuple[int, ...]] = []
        self._un_acts: list[np.ndarray] | None = None
        self._un_highlight: tuple[str, int] | None = None
        self._trace: StepTrace | None = None
        self._trace_row = 0
        self._walk_time: int | None = None
        self.time_step = -1                  # −1: the last step
        self._shown_row = 0                  # the recurrent row drawn (0-based network row)
        self._un_styles = StyleCache()
        self._cache: dict[tuple, RecurrentTrace | None] = {}

    # -- the interface the workspace uses ------------------------------------------------------
    def set_network(self, net: Network) -> None:
        shapes = [net.input_shape or (net.input_dim,)] + [net.row_shape(l) for l in range(net.n_rows)]
        kinds = ["input"] + [net.row_kind(l) for l in range(net.n_rows)]
        if shapes != self._shapes or kinds != self._kinds:
            self.cursor, self.selected = (0, 0), None
            self._un_acts = None
            first = next((l for l in range(net.n_rows) if kinds[l + 1] in RECURRENT), 0)
            self._shown_row = first
            self.cursor = (first + 1, 0)
        self._un_net, self._shapes, self._kinds = net, shapes, kinds
        self._sizes = [self._units(c) for c in range(len(shapes))]
        self._cache.clear()
        self._invalidate()

    def set_values(self, activations: list[np.ndarray] | None,
                   highlight: tuple[str, int] | None = None) -> None:
        """Outputs [x, a₁, …, a_L] of the shown sample, flattened (or None), and the stepper's
        layer."""
        acts = None if activations is None else [np.asarray(a, dtype=np.float64).reshape(-1)
                                                 for a in activations]
        self._un_acts, self._un_highlight = acts, highlight
        self._cache.clear()
        self._invalidate()

    def set_trace(self, trace: StepTrace | None, row: int = 0, time: int | None = None) -> None:
        """The traced step (its recurrent rows' steps and gradients), the shown batch row, and
        the step a walked phase is at (None: not walking through time)."""
        self._trace, self._trace_row, self._walk_time = trace, row, time
        if time is not None:
            self.time_step = time
        self._cache.clear()
        self._invalidate()

    def select(self, layer: int, unit: int) -> None:
        col = layer + 1
        if 0 <= col < len(self._sizes) and 0 <= unit < self._sizes[col]:
            self.cursor = self.selected = (col, unit)
            if 0 <= layer and self._kinds[col] in RECURRENT:
                self._shown_row = layer
            self._invalidate()

    # -- keys ---------------------------------------------------------------------------------------
    def action_move(self, dcol: int, dunit: int) -> None:
        if not self._sizes:
            return
        col, unit = self.cursor
        col = max(0, min(len(self._sizes) - 1, col + dcol))
        unit = max(0, min(self._sizes[col] - 1, (0 if dcol else unit) + dunit))
        self.cursor = (col, unit)
        if col >= 1 and self._kinds[col] in RECURRENT:
            self._shown_row = col - 1
        self._invalidate()

    def action_step(self, delta: int) -> None:
        """The step cursor: ← →, Home, End."""
        T = self._steps()
        if T <= 0:
            return
        t = (T - 1 if self.time_step < 0 else self.time_step) + delta
        self.time_step = max(0, min(T - 1, t))
        self._invalidate()
        col, unit = self.cursor
        if col == self._shown_row + 1:      # the card follows the step cursor
            self.selected = self.cursor
            self.post_message(self.NeuronSelected(self, col - 1, unit))

    # -- what is shown --------------------------------------------------------------------------------
    def _units(self, col: int) -> int:
        """Cursor positions of a column: a recurrent row's hidden units, else its values."""
        if col >= 1 and self._kinds[col] in RECURRENT and self._un_net is not None:
            return int(self._un_net.rows[col - 1].units)
        return int(np.prod(self._shapes[col]))

    def _steps(self) -> int:
        net = self._un_net
        if net is None or not self._kinds:
            return 0
        shape = net.row_input_shape(self._shown_row)
        return int(shape[0]) if len(shape) == 2 else 0

    def shown_step(self) -> int:
        """The step the cursor is on (0 … T−1)."""
        T = self._steps()
        return T - 1 if self.time_step < 0 or self.time_step >= T else self.time_step

    def steps_of(self, row: int) -> RecurrentTrace | None:
        """The shown sample's steps of recurrent row `row` (one sample: arrays (1, T, ·)): from
        the traced step when there is one, else recomputed from the shown inputs."""
        key = (row,)
        if key in self._cache:
            return self._cache[key]
        net, rec = self._un_net, None
        tr = self._trace
        if net is not None and 0 <= row < net.n_rows and self._kinds[row + 1] in RECURRENT:
            if tr is not None and len(tr.layers) == net.n_rows and tr.layers[row].recurrent is not None:
                full = tr.layers[row].recurrent
                r = min(self._trace_row, full.h.shape[0] - 1)
                rec = _one_sample(full, r)
            elif self._un_acts is not None:
                a_in = self._un_acts[row][None, :]
                out = np.zeros((1, int(np.prod(net.row_shape(row)))))
                rec = recurrent_trace(net, row, a_in, out, net.P.astype(np.float64), None)
                rec.dh_norm[:] = 0.0
        self._cache[key] = rec
        return rec

    # -- drawing ---------------------------------------------------------------------------------------
    def _build(self, W: int, H: int) -> list[Strip]:  # type: ignore[override]
        if W <= 0 or H <= 0:
            return []
        chars = [[" "] * W for _ in range(H)]
        styles: list[list[Style | None]] = [[None] * W for _ in range(H)]
        dim = self._un_styles.get(DIM_RGB)
        if self._un_net is None:
            _put(chars, styles, 0, 0, "no network", dim)
            return _to_strips(chars, styles)
        self._draw_chain(chars, styles, W)
        row = self._shown_row
        rec = self.steps_of(row)
        T = self._steps()
        if rec is None or T == 0:
            _put(chars, styles, 0, 2, "no sample to unroll yet", dim)
            return _to_strips(chars, styles)
        cw = 2 if LABEL_W + 2 * T <= W else 1
        span = max(1, min(T, (W - LABEL_W) // cw))
        t_cur = self.shown_step()
        first = 0 if span >= T else max(0, min(T - span, t_cur - span // 2))
        steps = range(first, first + span)
        lines = self._sections(rec, steps, H - 3)
        self._draw_axis(chars, styles, 1, steps, cw, t_cur, T)
        y = 2
        for label, kind, data in lines:
            _put(chars, styles, 0, y, label[:LABEL_W - 1].ljust(LABEL_W), dim)
            for s, t in enumerate(steps):
                x = LABEL_W + s * cw
                self._draw_cell(chars, styles, x, y, cw, kind, data, t, t == t_cur)
            y += 1
        self._draw_legend(chars, styles, H - 1, rec, t_cur)
        return _to_strips(chars, styles)

    def _sections(self, rec: RecurrentTrace, steps: range, rows: int) -> list[tuple[str, str, tuple]]:
        """The rows to draw, in priority order, trimmed to `rows` (then shown top to bottom in
        reading order: x, h, LSTM c and gates, gradients)."""
        unit = self.cursor[1] if self.cursor[0] == self._shown_row + 1 else 0
        unit = min(unit, rec.units - 1)
        x = rec.x[0]
        F = x.shape[1]
        xs = float(np.abs(x).max()) or 1.0
        hs = float(np.abs(rec.h[0]).max()) or 1.0
        out: dict[str, list[tuple[str, str, tuple]]] = {}
        if F <= 2:
            out["x"] = [(f"x{f if F > 1 else ''}", "cells", (x[:, f], xs)) for f in range(F)]
        else:
            out["x"] = [(f"x {2 * i}", "half", (x[:, 2 * i], x[:, 2 * i + 1] if 2 * i + 1 < F else None, xs))
                        for i in range((min(F, 8) + 1) // 2)]
        H = rec.units
        heat = [(f"h {2 * i}", "half", (rec.h[0, :, 2 * i], rec.h[0, :, 2 * i + 1] if 2 * i + 1 < H else None, hs))
                for i in range((H + 1) // 2)]
        grads = []
        if rec.dh_norm.any():
            grads.append(("‖dh‖", "bars", (rec.dh_norm,)))
            grads.append(("ΔW", "bars", (rec.contribution,)))
        lstm = []
        if rec.gate is not None and rec.c is not None:
            cs = float(np.abs(rec.c[0, :, unit]).max()) or 1.0
            lstm.append((f"c{unit}", "cells", (rec.c[0, :, unit], cs)))
            for q, g in enumerate("ifgo"):
                lstm.append((f"{g}{unit}", "cells", (rec.gate[0, :, q * H + unit], 1.0)))
        budget = rows
        chosen: dict[str, list] = {"x": [], "h": [], "lstm": [], "grads": []}

        def take(key: str, items: list) -> None:
            nonlocal budget
            for item in items:
                if budget <= 0:
                    return
                chosen[key].append(item)
                budget -= 1

        take("x", out["x"][:1])
        take("h", heat[:1] if len(heat) > budget - 1 else heat)
        take("grads", grads)
        take("lstm", lstm)
        take("x", out["x"][1:])
        if len(chosen["h"]) < len(heat):
            take("h", heat[len(chosen["h"]):])
        return chosen["x"] + chosen["h"] + chosen["lstm"] + chosen["grads"]

    def _draw_cell(self, chars, styles, x: int, y: int, cw: int, kind: str, data: tuple,  # type: ignore[no-untyped-def]
                   t: int, current: bool) -> None:
        cache = self._un_styles
        if kind == "cells":
            values, scale = data
            bg = diverging(float(values[t]), scale)
            _put(chars, styles, x, y, " " * cw, cache.get(None, bg))
        elif kind == "half":
            up, down, scale = data
            fg = diverging(float(up[t]), scale)
            bg = diverging(float(down[t]), scale) if down is not None else None
            _put(chars, styles, x, y, "▀" * cw, cache.get(fg, bg))
        else:
            (values,) = data
            v = np.asarray(values, dtype=np.float64)
            pos = v[v > 0]
            if not pos.size or v[t] <= 0:
                _put(chars, styles, x, y, " " * cw, cache.get(None))
                return
            lo, hi = np.log10(pos.min()), np.log10(pos.max())
            k = len(BARS) - 1 if hi - lo < 1e-12 else int(round((np.log10(v[t]) - lo) / (hi - lo) * (len(BARS) - 1)))
            _put(chars, styles, x, y, BARS[k] * cw, cache.get(ACCENT if current else BAR_RGB))

    def _draw_axis(self, chars, styles, y: int, steps: range, cw: int, t_cur: int, T: int) -> None:  # type: ignore[no-untyped-def]
        dim = self._un_styles.get(DIM_RGB)
        _put(chars, styles, 0, y, "t".ljust(LABEL_W), dim)
        walking = self._walk_time is not None
        for s, t in enumerate(steps):
            x = LABEL_W + s * cw
            if t == t_cur:
                mark = "◀" if walking and self._un_highlight and self._un_highlight[0] == "backward" else "▼"
                _put(chars, styles, x, y, mark, self._un_styles.get(ACCENT, bold=True))
            elif t % 5 == 0 and len(str(t)) <= cw * 5:
                _put(chars, styles, x, y, str(t), dim)

    def _draw_chain(self, chars, styles, W: int) -> None:  # type: ignore[no-untyped-def]
        """"x 20×1 → lstm 16 → dense 1", the shown layer and the cursor's layer marked."""
        x = 0
        hl = self._un_highlight
        for c, (kind, shape) in enumerate(zip(self._kinds, self._shapes)):
            if c:
                _put(chars, styles, x, 0, " → ", self._un_styles.get(DIM_RGB))
                x += 3
            size = (str(self._units(c)) if kind in RECURRENT else "×".join(str(v) for v in shape))
            label = f"{SHORT.get(kind, kind)} {size}"
            style = self._un_styles.get((200, 200, 200))
            if c == self._shown_row + 1:
                style = self._un_styles.get(ACCENT, bold=True)
            if hl is not None and hl[1] == c - 1:
                label = ("▶ " if hl[0] == "forward" else "◀ ") + label
                style = self._un_styles.get((0, 0, 0), ACCENT, bold=True)
            if c == self.cursor[0] and self.has_focus:
                style = Style.combine([style, Style(underline=True)])
            _put(chars, styles, x, 0, label, style)
            x += len(label)

    def _draw_legend(self, chars, styles, y: int, rec: RecurrentTrace, t: int) -> None:  # type: ignore[no-untyped-def]
        col, unit = self.cursor
        dim = self._un_styles.get(DIM_RGB)
        if col == self._shown_row + 1:
            j = min(unit, rec.units - 1)
            text = f"▸ unit {j}, t={t}: h={rec.h[0, t, j]:+.3f}"
            if rec.c is not None:
                text += f" c={rec.c[0, t, j]:+.3f}"
            if rec.dh_norm.any():
                text += f" ‖dh‖={rec.dh_norm[t]:.2g}"
        elif self._un_acts is not None and col < len(self._un_acts):
            v = self._un_acts[col]
            text = f"▸ {SHORT.get(self._kinds[col], self._kinds[col])} value {unit} = {v[min(unit, v.size - 1)]:+.3f}"
        else:
            text = "▸"
        text += "  PgUp PgDn step ↑↓ unit ⇧←→ layer"
        _put(chars, styles, 0, y, text[:len(chars[0])], dim)

    def hit_test(self, x: int, y: int) -> tuple[int, int] | None:
        return None


def _one_sample(rec: RecurrentTrace, r: int) -> RecurrentTrace:
    """Row r of a batch's RecurrentTrace as a batch of one (the batch-wide norms kept)."""
    def one(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[r:r + 1]

    return RecurrentTrace(gates=rec.gates, activation=rec.activation, x=one(rec.x), xw=one(rec.xw),
                          uh=one(rec.uh), z=one(rec.z), h=one(rec.h), dh_above=one(rec.dh_above),
                          dh=one(rec.dh), dz=one(rec.dz), contribution=rec.contribution,
                          dh_norm=rec.dh_norm, gate=one(rec.gate), c=one(rec.c), dc=one(rec.dc),
                          return_sequences=rec.return_sequences, clip_scale=rec.clip_scale)

