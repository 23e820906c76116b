"""`nnsim run --history`: the training history as JSON (epochs and batches) or CSV (epochs).

The engine's history is bounded (see `nnsim.engine.history`): a long run keeps its first and
latest records and an evenly thinned sample between. The JSON says so: `"decimated": true` with
`epochs_total` / `batches_total`, and each batch row carries its global `step`."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from nnsim.engine import EpochRecord, Trainer

from ..atomic import atomic_write_text
from .common import UsageError, check_output_path

FORMATS = (".json", ".csv")


def history_format(path: Path) -> str:
    """"json" or "csv" from the file name; anything else is a usage error."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--history {path}: the file name must end in .json or .csv")
    return suffix[1:]


def check_history_path(path: Path) -> Path:
    history_format(path)
    return check_output_path(path, "history file")


def _num(value: float | None) -> float | None:
    """JSON has no NaN/Inf: those become null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def epoch_row(rec: EpochRecord) -> dict[str, Any]:
    """One epoch as written: epoch, losses, the metric under its own name, learning rate, time."""
    m = rec.metric  # "accuracy" or "mae"
    return {
        "epoch": rec.epoch,
        "train_loss": _num(rec.train_loss),
        "test_loss": _num(rec.test_loss),
        f"train_{m}": _num(rec.train_metric),
        f"test_{m}": _num(rec.test_metric),
        "learning_rate": _num(rec.learning_rate),
        "seconds": _num(rec.seconds),
        "warnings": list(rec.warnings),
    }


def columns(metric: str) -> list[str]:
    return ["epoch", "train_loss", "test_loss", f"train_{metric}", f"test_{metric}",
            "learning_rate", "seconds", "warnings"]


def history_json(trainer: Trainer, extra: dict[str, Any]) -> str:
    doc = dict(extra)
    doc["metric"] = trainer.metric
    h = trainer.history
    summary = h.summary()
    doc["decimated"] = summary["decimated"]
    doc["epochs_total"], doc["batches_total"] = summary["epochs_total"], summary["batches_total"]
    doc["epochs"] = [epoch_row(r) for r in h.epochs]
    doc["batches"] = [{"step": b["step"], "epoch": b["epoch"], "batch": b["batch"],
                       "loss": _num(b["loss"])} for b in h.batches()]
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def history_csv(trainer: Trainer) -> str:
    buf = io.StringIO()
    names = columns(trainer.metric)
    writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for rec in trainer.history.epochs:
        row = epoch_row(rec)
        row["warnings"] = "; ".join(row["warnings"])
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in names})
    return buf.getvalue()


def write_history(trainer: Trainer, path: Path, extra: dict[str, Any]) -> None:
    """Write the history atomically, in the format the file name says."""
    text = history_json(trainer, extra) if history_format(path) == "json" else history_csv(trainer)
    atomic_write_text(path, text)
