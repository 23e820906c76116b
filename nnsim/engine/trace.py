"""Traces for teaching: every number of one mini-batch step, and its phases in order.

Per-sample and batch quantities: the batch loss is L = (Σᵢ ℓᵢ) / D, where ℓᵢ is sample i's own
loss and D = `StepTrace.divisor` (the batch size B for the losses that average over samples, 1
for sse, which sums). The kernel's dL/da and dL/dz (`dA`, `dZ`) are batch quantities: sample i's
row is its share, (dℓᵢ/da) / D. `per_sample(x)` turns a share back into dℓᵢ/d(·).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RecurrentTrace:
    """A recurrent row's time loop in one step, every array sample first: (n, T, ·).

    Forward, step by step from h₋₁ = 0 (and c₋₁ = 0): z_t = xw_t + uh_t + b with the input part
    xw_t = x_t·W and the recurrent part uh_t = h_{t−1}·U; SimpleRNN h_t = f(z_t); LSTM gates
    [i f g o] = [σ σ tanh σ](z_t), c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t).
    Backward through time, from the last step: dh_t = dh_above_t (what the layer above sends to
    step t) + dz_{t+1}·Uᵀ (what flows back from step t+1); dz_t = dL/dz_t. Each step adds
    x_tᵀ·dz_t to dL/dW, h_{t−1}ᵀ·dz_t to dL/dU and Σ dz_t to dL/db: `contribution` is the
    norm of those three together, `dh_norm` ‖dh_t‖ over the batch — how the gradient shrinks
    (vanishes) or grows (explodes) as it flows back."""

    gates: int                    # 1 SimpleRNN, 4 LSTM (blocks input, forget, cell, output)
    activation: str               # SimpleRNN's f ("tanh" by default); LSTM: "tanh" (its cell)
    x: np.ndarray                 # (n, T, F) the input sequence
    xw: np.ndarray                # (n, T, k·H) x_t·W
    uh: np.ndarray                # (n, T, k·H) h_{t−1}·U (0 at t = 0)
    z: np.ndarray                 # (n, T, k·H) xw + uh + b
    h: np.ndarray                 # (n, T, H) hidden states
    dh_above: np.ndarray          # (n, T, H) dL/dh_t arriving from the layer above
    dh: np.ndarray                # (n, T, H) dL/dh_t in all (above + from step t+1)
    dz: np.ndarray                # (n, T, k·H) dL/dz_t
    contribution: np.ndarray      # (T,) ‖(x_tᵀ·dz_t, h_{t−1}ᵀ·dz_t, Σ dz_t)‖ per step
    dh_norm: np.ndarray           # (T,) ‖dh_t‖ per step
    gate: np.ndarray | None = None   # LSTM (n, T, 4H): i, f, g, o after σ / tanh
    c: np.ndarray | None = None      # LSTM (n, T, H) cell states
    dc: np.ndarray | None = None     # LSTM (n, T, H) dL/dc_t in all
    return_sequences: bool = False
    clip_scale: float = 1.0       # the factor clipping applied to every gradient (1: none)

    @property
    def steps(self) -> int:
        return int(self.h.shape[1])

    @property
    def units(self) -> int:
        return int(self.h.shape[2])


@dataclass
class LayerTrace:
    """One row of the network (a dense, conv, pool, flatten or recurrent layer) in one step
    (rows = the batch's samples). Blocks are flattened per sample: a conv or pool row's a_in, z,
    a, dA and dZ are (n, C·H·W); reshape them with `in_shape` / `out_shape` (channel by channel,
    row by row); a sequence (T, F) is step by step. A conv row's W is (filters, channels, kh,
    kw); pool and flatten rows hold no parameters (W, b, dW, db, update_W, update_b are empty
    arrays). A recurrent row's z and a are its output (the hidden states) and `recurrent`
    holds its steps."""

    index: int             # row index, 0-based (every layer but dropout)
    position: int          # position in the network's layer list
    activation: str
    a_in: np.ndarray       # a₍ₗ₋₁₎, the layer's input (after any dropout before it)
    z: np.ndarray          # z = a₍ₗ₋₁₎W + b
    a: np.ndarray          # a = f(z), after this layer's dropout if any
    W: np.ndarray          # weights used in the forward pass (fan_in × units)
    b: np.ndarray
    dA: np.ndarray | None = None   # dL/da (batch share; with dropout: with respect to the dropped-out a)
    dZ: np.ndarray | None = None   # dL/dz = dL/da ⊙ mask/(1 − rate) ⊙ f′(z)
    dW: np.ndarray | None = None   # dL/dW = a₍ₗ₋₁₎ᵀ · dL/dz (+ regularization gradient)
    db: np.ndarray | None = None   # dL/db = Σ dL/dz over the batch
    update_W: np.ndarray | None = None  # change applied to W by the optimizer
    update_b: np.ndarray | None = None
    alpha: float = 0.0             # the activation's α (leaky relu, elu)
    fz: np.ndarray | None = None   # f(z) before this layer's dropout (None without dropout: a)
    drop_rate: float = 0.0         # dropout rate on this layer's output (0: no dropout)
    keep: np.ndarray | None = None  # True where a unit was kept, False where dropped (None: no dropout)
    #: the optimizer's state for W and b at the update phase, by name, in the parameters' dtype:
    #: for momentum/nesterov "v_before", "v"; adagrad/rmsprop "c_before", "c"; adam "m_before",
    #: "v_before", "m", "v" (m̂ and v̂: `StepTrace.adam_hats`); empty for sgd or before the update.
    state_W: dict[str, np.ndarray] = field(default_factory=dict)
    state_b: dict[str, np.ndarray] = field(default_factory=dict)
    kind: str = "dense"            # "dense", "conv2d", "maxpool2d", "avgpool2d", "flatten"
    in_shape: tuple[int, ...] = ()   # one sample's input: (units,) or (channels, height, width)
    out_shape: tuple[int, ...] = ()  # one sample's output
    window: tuple[int, int] = (0, 0)   # conv kernel or pool window (kh, kw)
    stride: tuple[int, int] = (0, 0)
    padding: tuple[int, int] = (0, 0)  # zeros above and to the left (conv "same")
    #: recurrent rows: U (units × k·units), its gradient, update and optimizer state, and the
    #: time loop (`RecurrentTrace`); None for every other kind
    U: np.ndarray | None = None
    dU: np.ndarray | None = None
    update_U: np.ndarray | None = None
    state_U: dict[str, np.ndarray] = field(default_factory=dict)
    recurrent: RecurrentTrace | None = None

    @property
    def drop_scale(self) -> float:
        """1/(1 − rate): how much a kept unit is scaled up (inverted dropout)."""
        return 1.0 / (1.0 - self.drop_rate)


@dataclass
class StepTrace:
    epoch: int                 # 1-based
    batch: int                 # 1-based within the epoch
    step: int                  # global step (1-based)
    indices: np.ndarray        # the batch's sample indices in the training set
    y: np.ndarray              # the batch's targets (as the loss sees them)
    loss: float
    learning_rate: float
    layers: list[LayerTrace] = field(default_factory=list)
    loss_name: str = ""
    from_logits: bool = False
    #: the output's dL/dz came from the fused rule dℓ/dz = p − y (cross-entropy with its
    #: matching sigmoid/softmax, or on logits), not from dL/da ⊙ f′(z)
    fused: bool = False
    divisor: float = 1.0       # D in L = Σᵢ ℓᵢ / D
    sample_loss: np.ndarray | None = None   # ℓᵢ for each row of the batch
    probs: np.ndarray | None = None         # probabilities beside the logits (from_logits only)
    input_drop_rate: float = 0.0            # dropout on the network's inputs
    input_keep: np.ndarray | None = None
    regularization: str = "none"
    regularization_rate: float = 0.0
    optimizer: str = ""
    optimizer_options: dict[str, float] = field(default_factory=dict)
    optimizer_t: int = 0       # the optimizer's update count after this step (adam's t)

    def per_sample(self, share: np.ndarray | float) -> np.ndarray | float:
        """A sample's share of a batch gradient (a row of dA or dZ) as its own dℓᵢ/d(·)."""
        return share * self.divisor

    def adam_hats(self, m: np.ndarray | float, v: np.ndarray | float) -> tuple:
        """Adam's bias-corrected moments after this step: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)."""
        t = self.optimizer_t
        b1, b2 = self.optimizer_options.get("beta1", 0.9), self.optimizer_options.get("beta2", 0.999)
        return (np.float64(m) / (1.0 - b1 ** t), np.float64(v) / (1.0 - b2 ** t))


@dataclass
class Phase:
    """One phase of a walked step: ("forward", l), ("loss", None), ("backward", l), ("update", None).

    A recurrent row is walked through time: its forward phase once per step t = 0 … T−1 and its
    backward phase once per step t = T−1 … 0 (`time`); every other phase has time None."""

    kind: str
    layer: int | None
    trace: StepTrace
    time: int | None = None

    @property
    def label(self) -> str:
        if self.kind in ("forward", "backward"):
            return f"{self.kind} layer {self.layer + 1}" + (
                f" step t={self.time}" if self.time is not None else "")
        return self.kind


def step_phases(trace: StepTrace) -> list[Phase]:
    """Every phase of one step, in order: forward row 0 … L−1 (a recurrent row step by step
    through time), loss, backward row L−1 … 0 (a recurrent row from its last step back to its
    first), update."""
    def steps(lt: LayerTrace) -> int | None:
        return lt.recurrent.steps if lt.recurrent is not None else None

    out: list[Phase] = []
    for l, lt in enumerate(trace.layers):
        T = steps(lt)
        out += ([Phase("forward", l, trace, t) for t in range(T)] if T
                else [Phase("forward", l, trace)])
    out.append(Phase("loss", None, trace))
    for l in range(len(trace.layers) - 1, -1, -1):
        T = steps(trace.layers[l])
        out += ([Phase("backward", l, trace, t) for t in range(T - 1, -1, -1)] if T
                else [Phase("backward", l, trace)])
    out.append(Phase("update", None, trace))
    return out
