"""StepperPanel: one phase of a walked training step, written out with the actual numbers."""

from __future__ import annotations

import itertools

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import activations, losses
from nnsim.engine.trace import Phase, StepTrace

from . import mathtext as mt
from .stepper_conv import spatial_backward, spatial_forward
from .stepper_rnn import recurrent_backward, recurrent_forward

MAX_UNITS = 4      # units written out per layer
MAX_WEIGHTS = 2    # weights per layer in the update phase
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
        if (kind, layer) == current and phase is not None and phase.time is not None:
            label += f" t={phase.time}"          # a recurrent layer, walked through time
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
    text.append(f"z = a·W + b    a: {fan_in} inputs, W: {fan_in}×{units} (fan_in × units), b: {units};"
                f" zⱼ = Σᵢ aᵢ·W[i,j] + bⱼ\n")
    a_in = lt.a_in[r].astype(np.float64)
    shown_units = range(min(units, MAX_UNITS))
    for j in shown_units:
        text.append(f"  z{mt.sub(j)} = ")
        text.append(mt.dot_expr(a_in, lt.W[:, j].astype(np.float64), float(lt.b[j]),
                                float(lt.z[r, j])) + "\n")
    if units > MAX_UNITS:
        text.append(f"  … ({units} units)\n", style=DIM)
    if act.name == "softmax":
        text.append("a = softmax(z): each aₖ = e^zₖ / Σⱼ e^zⱼ uses the layer's whole z vector\n")
        for line in mt.softmax_lines(lt.z[r], lt.a[r], list(shown_units)):
            text.append(f"  {line}\n")
    else:
        text.append(f"a = f(z)    {act.formula}\n")
        fz = lt.fz if lt.fz is not None else lt.a
        for j in shown_units:
            text.append(f"  a{mt.sub(j)} = {act.name}({mt.fmt(lt.z[r, j])}) = {mt.fmt(fz[r, j])}\n")
        if lt.keep is not None:
            text.append(f"dropout (rate {lt.drop_rate:g}, inverted): a = f(z) × m × 1/(1 − rate); "
                        f"m = 1 keeps a unit, 0 drops it (drawn anew each step)\n")
            for j in shown_units:
                m, scale = mt.dropout_factor(lt, r, j)
                text.append(f"  a{mt.sub(j)} = {mt.dropped_line(float(fz[r, j]), m, scale, float(lt.a[r, j]))}\n")
    if units > MAX_UNITS:
        text.append(f"  a = {mt.vector(lt.a[r])}\n", style=DIM)


def _loss(text: Text, tr: StepTrace, r: int, loss_name: str) -> None:
    out = tr.layers[-1]
    name = tr.loss_name or loss_name
    text.append("Loss", style=HEAD)
    loss = losses.get(name) if name else None
    if loss is not None:
        text.append(f" · {loss.name}: {loss.formula}\n")
        text.append(f"reduction: {loss.reduction}\n", style=DIM)
    else:
        text.append("\n")
    y = np.asarray(tr.y[r], dtype=np.float64)
    if tr.from_logits:
        rule = "σ(z)" if name == "binary_crossentropy" else "softmax(z)"
        text.append(f"logits z = {mt.vector(out.a[r])}   (the output layer is linear: these are not probabilities)\n")
        text.append(f"probabilities p = {rule} = {mt.vector(tr.probs[r])}\n")
        text.append(f"y = {_target_words(y, name)}\n")
    else:
        label = "p" if loss is not None and loss.classification else "ŷ"
        text.append(f"{label} = {mt.vector(out.a[r])}    y = {_target_words(y, name)}\n")
    if tr.sample_loss is not None and name:
        text.append(f"this sample: {mt.sample_loss_line(_with_loss(tr, name), r)}\n")
        text.append(mt.batch_loss_line(tr) + "\n")
    else:
        text.append(f"L = {mt.fmt(tr.loss)}\n")
    text.append("the regularization penalty is reported separately, not in L\n", style=DIM)
    k = out.a.shape[1]
    tr_named = _with_loss(tr, name)
    for j in range(min(k, MAX_UNITS)):
        of, g, line = mt.output_gradient(tr_named, r, j)
        if j:
            line = line.split("   (the fused rule")[0]
        text.append(("this sample: " if j == 0 else "             ") + line + "\n")
    if k > MAX_UNITS:
        text.append(f"  … ({k} outputs)\n", style=DIM)
    text.append("the backward pass starts from each sample's share: "
                + ("÷ 1 (sse sums)" if tr.divisor == 1.0 else f"÷ B = ÷ {int(tr.divisor)}") + "\n", style=DIM)


def _target_words(y: np.ndarray, loss_name: str) -> str:
    """y as a vector, or "class k" for a sparse label."""
    if loss_name == "sparse_categorical_crossentropy":
        return f"class {int(y.reshape(-1)[0])} (the label; one-hot: a 1 at position {int(y.reshape(-1)[0])})"
    return mt.vector(y)


def _with_loss(tr: StepTrace, name: str) -> StepTrace:
    """The trace with its loss name (an older trace may lack it)."""
    if tr.loss_name or not name:
        return tr
    from dataclasses import replace
    return replace(tr, loss_name=name)


def _backward(text: Text, tr: StepTrace, l: int, r: int) -> None:
    lt = tr.layers[l]
    act = activations.get(lt.activation)
    fan_in, units = lt.W.shape
    L = len(tr.layers)
    text.append(f"Backward · layer {l + 1} of {L} ({act.name})\n", style=HEAD)
    text.append(f"per sample (ℓ = this sample's loss; {mt.reduction_words(tr)}), then its share ÷ "
                f"{'1' if tr.divisor == 1.0 else 'B'}\n", style=DIM)
    fz = lt.fz if lt.fz is not None else lt.a
    if l == L - 1 and tr.fused:
        text.append("dℓ/dz = p − y   (the fused rule: dℓ/da·f′(z) simplifies to it)\n")
    elif act.name == "softmax":
        text.append("dℓ/dz = a ⊙ (dℓ/da − Σₖ dℓ/daₖ·aₖ)   (softmax's Jacobian)\n")
    else:
        text.append(f"dℓ/dz = dℓ/da ⊙ {'m/(1 − rate) ⊙ ' if lt.keep is not None else ''}f′(z)    {act.formula}\n")
    for j in range(min(units, MAX_UNITS)):
        share = float(lt.dZ[r, j])
        per = float(tr.per_sample(share))
        if l == L - 1 and tr.fused:
            _, _, line = mt.output_gradient(tr, r, j)
            text.append(f"  unit {j}: {line.split('   (')[0]}\n")
        elif act.name == "softmax":
            a = lt.a[r].astype(np.float64)
            da = tr.per_sample(lt.dA[r].astype(np.float64))
            s = float(np.dot(da, a))
            text.append(f"  unit {j}: dℓ/dz = " + mt.written(
                lambda e, a=a, da=da, j=j, s=s: (f"{mt.fmt(a[j], e)} × ({mt.fmt(da[j], e)} − {mt.term(s, e)})",
                           mt.shown(a[j], e) * (mt.shown(da[j], e) - mt.shown(s, e))), per) + "\n")
        else:
            da = float(tr.per_sample(float(lt.dA[r, j])))
            fp, _ = mt.f_prime(act.name, float(lt.z[r, j]), float(fz[r, j]), lt.alpha)
            drop = mt.dropout_factor(lt, r, j)
            text.append(f"  unit {j}: dℓ/da = {mt.fmt(da)}, f′(z) = {mt.fmt(fp)}; "
                        f"{mt.chain_line('a', da, fp, per, drop)}\n")
        text.append(f"          {mt.share_line(tr, 'z', per, share, note=False)}\n", style=DIM)
    if units > MAX_UNITS:
        text.append(f"  … ({units} units)\n", style=DIM)
    B = len(tr.indices)
    text.append(f"dL/dW = aᵀ·dL/dz: each entry adds up the {B} samples' aᵢ·dL/dzⱼ (W: {fan_in}×{units})\n")
    for i in range(min(fan_in, 2)):
        for j in range(min(units, 2)):
            text.append("  " + mt.weight_gradient_line(tr, lt, i, j, f"W[{i},{j}]", f"a{mt.sub(i)}").replace(
                "·dL/dz", f"·dL/dz{mt.sub(j)}", 1) + "\n")
    text.append(f"dL/db = Σ dL/dz over the batch = {mt.vector(lt.db, MAX_UNITS)}\n")
    if l > 0:
        below = tr.per_sample(lt.dZ[r].astype(np.float64)) @ lt.W.T.astype(np.float64)
        text.append(f"dℓ/da for layer {l} (this sample) = dℓ/dz·Wᵀ = {mt.vector(below, MAX_UNITS)}\n")


def _update(text: Text, tr: StepTrace, optimizer_name: str) -> None:
    text.append("Update", style=HEAD)
    text.append(f" · {mt.optimizer_words(tr) if tr.optimizer else optimizer_name or 'the optimizer'}\n")
    rule = OPTIMIZER_RULES.get(tr.optimizer or optimizer_name, "w ← w + Δw, Δw the optimizer's step")
    text.append(rule + "\n")
    if tr.layers[0].update_W is None:
        text.append("the weights have not been updated yet\n", style=DIM)
        return
    for l, lt in enumerate(tr.layers):
        text.append(f"layer {l + 1}:\n", style=HEAD)
        if lt.W.size == 0:            # pool and flatten layers (conv W: filters × channels × kh × kw)
            text.append(f"  no parameters ({lt.kind})\n", style=DIM)
            continue
        shown = list(itertools.islice(np.ndindex(lt.W.shape), MAX_WEIGHTS))
        for idx in shown:
            for line in mt.update_lines(tr, lt, "W", idx, f"W[{','.join(map(str, idx))}]"):
                text.append(f"  {line}\n")
        for line in mt.update_lines(tr, lt, "b", (0,), "b[0]"):
            text.append(f"  {line}\n")


#: Each optimizer's rule as the update phase states it (engine/optimizers.py).
OPTIMIZER_RULES = {
    "sgd": "w ← w + Δw, Δw = −η·g",
    "momentum": "v ← μ·v − η·g (the velocity), w ← w + v",
    "nesterov": "v ← μ·v − η·g, w ← w + μ·v − η·g",
    "adagrad": "c ← c + g², w ← w − η·g / (√c + ε)",
    "rmsprop": "c ← ρ·c + (1 − ρ)·g², w ← w − η·g / (√c + ε)",
    "adam": "m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², w ← w − η·m̂ / (√v̂ + ε) with "
            "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)",
}


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
    spatial = phase.layer is not None and tr.layers[int(phase.layer)].kind != "dense"
    if phase.time is not None and phase.kind in ("forward", "backward"):
        (recurrent_forward if phase.kind == "forward" else recurrent_backward)(
            text, tr, int(phase.layer), r, int(phase.time))
    elif phase.kind == "forward":
        (spatial_forward if spatial else _forward)(text, tr, int(phase.layer), r)
    elif phase.kind == "loss":
        _loss(text, tr, r, loss_name)
    elif phase.kind == "backward":
        (spatial_backward if spatial else _backward)(text, tr, int(phase.layer), r)
    elif phase.kind == "update":
        _update(text, tr, optimizer_name)
    else:
        text.append(f"unknown phase {phase.kind!r}\n")
    if mt.APPROX in text.plain:
        text.append(mt.LEGEND + "\n", style=DIM)
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
