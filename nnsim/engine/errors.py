"""Errors the engine raises for the caller to show."""

from __future__ import annotations


class DivergenceError(RuntimeError):
    """Training produced a non-finite value; the step was not applied.

    Attributes name the step (epoch, batch, global step), the layer (1-based, as shown to users),
    the quantity ("loss", "z", "a", "dL/da", "dL/dz", "dL/dW", "dL/db"), and the largest
    gradient norm seen in the steps before.
    """

    def __init__(self, epoch: int, batch: int, step: int, layer: int | None, quantity: str,
                 max_grad_norm: float, learning_rate: float) -> None:
        self.epoch, self.batch, self.step = epoch, batch, step
        self.layer, self.quantity = layer, quantity
        self.max_grad_norm, self.learning_rate = max_grad_norm, learning_rate
        where = f"layer {layer}" if layer is not None else "the output"
        super().__init__(
            f"training diverged at step {step} (epoch {epoch + 1}, batch {batch + 1}): "
            f"{quantity} in {where} became non-finite (NaN/Inf); the largest gradient norm "
            f"before it was {max_grad_norm:.4g} at learning rate {learning_rate:g}. "
            "Try a smaller learning rate, another initializer, or gradient-friendly activations."
        )
