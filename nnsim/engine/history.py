"""Training history: one record per epoch, one loss per mini-batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class EpochRecord:
    """Metrics on the full train and test sets with the weights at the end of the epoch."""

    epoch: int                  # 1-based
    train_loss: float
    test_loss: float | None
    train_metric: float
    test_metric: float | None
    metric: str                 # "accuracy" or "mae"
    penalty: float              # regularization penalty (not included in the losses)
    learning_rate: float
    grad_norms: list[float]     # per dense layer: mean over the epoch's batches of ‖(dW, db)‖
    weight_norms: list[float]   # per dense layer: ‖W‖ at the end of the epoch
    seconds: float
    batches: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class History:
    epochs: list[EpochRecord] = field(default_factory=list)
    batch_epoch: list[int] = field(default_factory=list)   # 1-based epoch of each batch
    batch_index: list[int] = field(default_factory=list)   # 1-based batch within the epoch
    batch_loss: list[float] = field(default_factory=list)  # mini-batch loss before the update

    def add_batches(self, epoch: int, first: int, losses: np.ndarray) -> None:
        n = len(losses)
        self.batch_epoch.extend([epoch] * n)
        self.batch_index.extend(range(first, first + n))
        self.batch_loss.extend(np.asarray(losses, dtype=np.float64).tolist())

    def batches(self) -> list[dict[str, float]]:
        return [{"epoch": e, "batch": b, "loss": l}
                for e, b, l in zip(self.batch_epoch, self.batch_index, self.batch_loss)]

    def to_json(self) -> dict[str, Any]:
        return {"epochs": [r.as_dict() for r in self.epochs], "batches": self.batches()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "History":
        h = cls([EpochRecord(**r) for r in data.get("epochs", [])])
        for row in data.get("batches", []):
            h.batch_epoch.append(int(row["epoch"]))
            h.batch_index.append(int(row["batch"]))
            h.batch_loss.append(float(row["loss"]))
        return h
