"""StepperPanel: one phase of a walked training step, written out with the actual numbers."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import activations, losses
from nnsim.engine.trace import Phase, StepTrace

from ._common import num, vec, written_sum

MAX_UNITS = 4      # units written out per layer
MAX_WEIGHTS = 3    # weights per layer in the update phase
HEAD = "bold"
DIM = "grey62"
CURRENT = "bold black on gold1"


def phase_labels(n_layers: int) -> list[tuple[str, int | None]]:
    """The phases of one step in order: forward 0..L−1, loss, backward L−1..0, update."""
    return ([("forward", l) for l in range(n_layers)] + [("loss", None)]
            + [("backward", l) for l in range(n_layers - 1, -1, -1)] + [("update", None)])


def progress_line(phase: Phase | None, n_layers: int) -> Text:
    """"forward 1 › forward 2 › loss › backward 2 › backward 1 › update", current highlighted."""
    text = Text()
    current = (phase.kind, phase.layer) if phase is not None else None
    for i, (kind, layer) in enumerate(phase_labels(n_layers)):
        if i:
            text.append(" › ", style=DIM)
        label = kind if layer is None else f"{kind} {layer + 1}"
        text.append(label, style=CURRENT if (kind, layer) == current else DIM)
    return text


def _sample_header(tr: StepTrace, r: int) -> str:
    return (f"sample {r + 1} of {len(tr.indices)} in the batch (train #{int(tr.indices[r])}), "
            f"epoch {tr.epoch} batch {tr.batch}")


def _forward(text: Text, tr: StepTrace, l: int, r: int) -> None:
    lt = tr.layers[l]
    act = activations.get(lt.activation)
    fan_in, units = lt.W.shape
    text.append(f"Forward · layer {l + 1} of {len(tr.layers)} ({act.name})\n", style=HEAD)
    text.append(f"z = a·W + b    a: {fan_in} inputs, W: {fan_in}×{units}, b: {units}\n")
    a_in = lt.a_in[r].astype(np.float64)
    for j in range(min(units, MAX_UNITS)):
        text.append(f"  z{j} = ")
        text.append(written_sum(a_in, lt.W[:, j].astype(np.float64), float(lt.b[j]),
                                float(lt.z[r, j])) + "\n")
    if units > MAX_UNITS:
        text.append(f"  … ({units} units)\n", style=DIM)
    text.append(f"a = f(z)    {act.formula}\n")
    for j in range(min(units, MAX_UNITS)):
        text.append(f"  a{j} = {act.name}({num(lt.z[r, j])}) = {num(lt.a[r, j])}\n")
    if units > MAX_UNITS:
        text.append(f"  a = {vec(lt.a[r])}\n", style=DIM)


def _loss(text: Text, tr: StepTrace, r: int, loss_name: str) -> None:
    out = tr.layers[-1]
    text.append("Loss", style=HEAD)
    loss = None
    if loss_name:
        loss = losses.get(loss_name)
        text.append(f" · {loss.name}: {loss.formula}")
    text.append("\n")
    y_hat, y = out.a[r].astype(np.float64), np.asarray(tr.y[r], dtype=np.float64)
    text.append(f"ŷ = {vec(y_hat)}    y = {vec(y)}\n")
    if loss is not None:
        logits = loss.classification and out.activation == "linear"
        with np.errstate(all="ignore"):
            li = loss.value(y_hat[None, :], y[None, :], logits)
        text.append(f"this sample's loss = {num(li)}\n")
    text.append(f"L = {num(tr.loss)}  (mean over the batch of {len(tr.indices)}; "
                "the regularization penalty is not included)\n")
    text.append(f"dL/dŷ for this sample = {vec(out.dA[r])}  (starts the backward pass)\n")


def _backward(text: Text, tr: StepTrace, l: int, r: int) -> None:
    lt = tr.layers[l]
    act = activations.get(lt.activation)
    fan_in, units = lt.W.shape
    text.append(f"Backward · layer {l + 1} of {len(tr.layers)} ({act.name})\n", style=HEAD)
    if act.name == "softmax":
        text.append("δ = dL/dz = a ⊙ (dL/da − Σₖ dL/daₖ·aₖ)   (softmax Jacobian)\n")
    else:
        text.append(f"δ = dL/dz = dL/da ⊙ f′(z)    {act.formula}\n")
    for j in range(min(units, MAX_UNITS)):
        da, dz = float(lt.dA[r, j]), float(lt.dZ[r, j])
        if act.name == "softmax":
            text.append(f"  unit {j}: dL/da = {num(da)}, a = {num(lt.a[r, j])}, δ = {num(dz)}\n")
            continue
        fp = float(act.grad(lt.z[r:r + 1, j:j + 1].astype(np.float64),
                            lt.a[r:r + 1, j:j + 1].astype(np.float64), act.default_alpha)[0, 0])
        note = "  (dropout mask applied)" if abs(da * fp - dz) > 1e-5 * max(1.0, abs(dz)) else ""
        text.append(f"  unit {j}: dL/da = {num(da)}, f′(z) = {num(fp)}, "
                    f"δ = {num(da)} × {num(fp)} = {num(dz)}{note}\n")
    if units > MAX_UNITS:
        text.append(f"  … ({units} units)\n", style=DIM)
    B = len(tr.indices)
    text.append(f"dL/dW = aᵀδ    summed over the batch of {B} (W: {fan_in}×{units})\n")
    a_in = lt.a_in[r].astype(np.float64)
    for i in range(min(fan_in, 2)):
        for j in range(min(units, 2)):
            own = a_in[i] * float(lt.dZ[r, j])
            text.append(f"  dL/dW[{i},{j}] = {num(lt.dW[i, j])}   "
                        f"(this sample: {num(a_in[i])} × {num(lt.dZ[r, j])} = {num(own)})\n")
    text.append(f"dL/db = Σ δ over the batch = {vec(lt.db, MAX_UNITS)}\n")
    if l > 0:
        below = lt.dZ[r].astype(np.float64) @ lt.W.T.astype(np.float64)
        text.append(f"dL/da for layer {l} = δ·Wᵀ = {vec(below, MAX_UNITS)}\n")


def _update(text: Text, tr: StepTrace, optimizer_name: str) -> None:
    opt = optimizer_name or "the optimizer"
    eta = tr.learning_rate
    text.append(f"Update · {opt}, η = {num(eta)}\n", style=HEAD)
    plain = optimizer_name in ("sgd", "gd")
    if plain:
        text.append("w ← w − η·g\n")
    else:
        text.append("w ← w + Δw, where Δw is the optimizer's step (it uses its running state);"
                    " −η·g is shown for comparison\n")
    if tr.layers[0].update_W is None:
        text.append("the weights have not been updated yet\n", style=DIM)
        return
    for l, lt in enumerate(tr.layers):
        text.append(f"layer {l + 1}:\n")
        fan_in, units = lt.W.shape
        shown = [(i, j) for i in range(fan_in) for j in range(units)][:MAX_WEIGHTS]
        for i, j in shown:
            w, g, dw = float(lt.W[i, j]), float(lt.dW[i, j]), float(lt.update_W[i, j])
            if plain:
                text.append(f"  w[{i},{j}] = {num(w)} − {num(eta)} × {num(g)} = {num(w + dw)}\n")
            else:
                text.append(f"  w[{i},{j}] = {num(w)} + ({num(dw)}) = {num(w + dw)}"
                            f"   (−η·g = {num(-eta * g)})\n")
        b, db, ub = float(lt.b[0]), float(lt.db[0]), float(lt.update_b[0])
        text.append(f"  b[0] = {num(b)} + ({num(ub)}) = {num(b + ub)}   (g = {num(db)})\n")


def phase_text(phase: Phase | None, sample_row: int = 0, loss_name: str = "",
               optimizer_name: str = "") -> Text:
    """The panel's content: the progress line and the phase written out with numbers."""
    if phase is None:
        return Text("no step in progress — step through one to see its phases", style=DIM)
    tr = phase.trace
    r = max(0, min(int(sample_row), len(tr.indices) - 1))
    text = progress_line(phase, len(tr.layers))
    text.append("\n")
    text.append(_sample_header(tr, r) + "\n\n", style=DIM)
    if phase.kind == "forward":
        _forward(text, tr, int(phase.layer), r)
    elif phase.kind == "loss":
        _loss(text, tr, r, loss_name)
    elif phase.kind == "backward":
        _backward(text, tr, int(phase.layer), r)
    elif phase.kind == "update":
        _update(text, tr, optimizer_name)
    else:
        text.append(f"unknown phase {phase.kind!r}\n")
    return text


class StepperPanel(VerticalScroll):
    """A scrollable panel showing `phase_text` for the current phase."""

    DEFAULT_CSS = """
    StepperPanel {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = phase_text(None)
        self._body = Static(self._text, classes="stepper-body")
        self.phase: Phase | None = None

    def compose(self) -> ComposeResult:
        yield self._body

    @property
    def text(self) -> str:
        """Plain text of what the panel shows."""
        return self._text.plain

    def show_phase(self, phase: Phase | None, sample_row: int = 0, loss_name: str = "",
                   optimizer_name: str = "") -> None:
        """Show `phase` of a walked step for batch row `sample_row` (None: nothing)."""
        self.phase = phase
        self._text = phase_text(phase, sample_row, loss_name, optimizer_name)
        self._show_text()

    def _show_text(self) -> None:
        if self._body.is_attached:
            self._body.update(self._text)
        else:  # not mounted (yet, or any more): compose will use a fresh body
            self._body = Static(self._text, classes="stepper-body")
