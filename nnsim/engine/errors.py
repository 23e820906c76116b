"""Errors the engine raises for the caller to show."""

from __future__ import annotations

DEFAULT_ADVICE = ("Try a smaller learning rate, another initializer, or gradient-friendly "
                  "activations.")


class DivergenceError(RuntimeError):
    """Training produced a non-finite value.

    Attributes name the step (epoch, batch, global step), the layer (1-based, as shown to users),
    the quantity ("loss", "activation z", "dL/dz", "gradient dL/dW", "weights W", "bias b", …),
    the largest gradient norm seen in the steps before, the likely `cause` ("data",
    "initialization", "epsilon" or "learning_rate") with `advice` to match, and `applied`:
    False when training stopped before the failing step's update (the usual case), True when
    an update itself produced a non-finite weight or bias (the weights are then not usable:
    reset them).
    """

    def __init__(self, epoch: int, batch: int, step: int, layer: int | None, quantity: str,
                 max_grad_norm: float, learning_rate: float, *, cause: str = "learning_rate",
                 advice: str = DEFAULT_ADVICE, applied: bool = False) -> None:
        self.epoch, self.batch, self.step = epoch, batch, step
        self.layer, self.quantity = layer, quantity
        self.max_grad_norm, self.learning_rate = max_grad_norm, learning_rate
        self.cause, self.advice, self.applied = cause, advice, applied
        where = f"layer {layer}" if layer is not None else "the output"
        when = "after the update of" if applied else "at"
        super().__init__(
            f"training diverged {when} step {step} (epoch {epoch + 1}, batch {batch + 1}): "
            f"{quantity} in {where} became non-finite (NaN/Inf); the largest gradient norm "
            f"before it was {max_grad_norm:.4g} at learning rate {learning_rate:g}. {advice}"
        )
