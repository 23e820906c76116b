"""Traces for teaching: every number of one mini-batch step, and its phases in order."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerTrace:
    """One dense layer in one step (rows = the batch's samples)."""

    index: int             # dense layer index, 0-based
    position: int          # position in the network's layer list
    activation: str
    a_in: np.ndarray       # a₍ₗ₋₁₎, the layer's input (after any dropout before it)
    z: np.ndarray          # z = a₍ₗ₋₁₎W + b
    a: np.ndarray          # a = f(z), after this layer's dropout if any
    W: np.ndarray          # weights used in the forward pass
    b: np.ndarray
    dA: np.ndarray | None = None   # dL/da
    dZ: np.ndarray | None = None   # dL/dz = dL/da ⊙ f′(z)
    dW: np.ndarray | None = None   # dL/dW = a₍ₗ₋₁₎ᵀ · dL/dz (+ regularization gradient)
    db: np.ndarray | None = None   # dL/db = Σ dL/dz over the batch
    update_W: np.ndarray | None = None  # change applied to W by the optimizer
    update_b: np.ndarray | None = None


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


@dataclass
class Phase:
    """One phase of a walked step: ("forward", l), ("loss", None), ("backward", l), ("update", None)."""

    kind: str
    layer: int | None
    trace: StepTrace

    @property
    def label(self) -> str:
        if self.kind in ("forward", "backward"):
            return f"{self.kind} layer {self.layer + 1}"
        return self.kind
