"""Training history: one record per epoch, one loss per mini-batch, both bounded in memory.

The bounded policy (`Thinned`, the same rule for epochs and for mini-batches), with records
numbered 0, 1, 2, … in the order they arrive (a mini-batch's number is its step − 1, an
epoch's its epoch − 1):

* the first `head` records are always kept (the start of training; `within_epochs` goals);
* the most recent `recent` records are all kept;
* older records are thinned: one that leaves the recent window is kept only if its number is a
  multiple of the stride s (1 at first); whenever more than `thinned` such records are kept,
  every second one is dropped and s doubles. The middle of a long run therefore stays evenly
  sampled, with between `thinned`/2 and `thinned` records, however long training runs.

So at most head + thinned + recent (+ recent/4 not yet sorted) records are held. Mini-batches
live in NumPy columns (24 bytes each: step, epoch, batch, loss; at most 23,500 of them, about
0.6 MB); epochs as `EpochRecord` objects (at most 11,250, under 1 KB each for small networks).
A run shorter than `head + recent` keeps everything: 6,000 epochs, 11,000 mini-batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable

import numpy as np

#: (head, thinned, recent) for epoch records and for mini-batch records.
EPOCH_POLICY = (1000, 4000, 5000)
BATCH_POLICY = (1000, 10_000, 10_000)
_PENDING = 512          # single steps are staged in a list and moved to the columns in blocks
_MAX_STRIDE = 1 << 62


@dataclass(slots=True)
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
    warnings: list[str] = field(default_factory=list)  # health warnings (see Trainer.health)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (lists copied); like dataclasses.asdict, ten times faster."""
        d = {name: getattr(self, name) for name in _FIELDS}
        for key in ("grad_norms", "weight_norms", "warnings"):
            d[key] = list(d[key])
        return d


_FIELDS = tuple(f.name for f in fields(EpochRecord))


class Thinned:
    """A bounded, ordered log of numbered rows in NumPy columns (see the module docstring)."""

    def __init__(self, columns: dict[str, Any], head: int, thinned: int, recent: int) -> None:
        if thinned < 2 or recent < 1 or head < 0:
            raise ValueError("Thinned needs thinned >= 2, recent >= 1 and head >= 0")
        self.head, self.thinned, self.recent = head, thinned, recent
        self.capacity = head + thinned + recent + max(1, recent // 4)
        size = min(self.capacity, 256)     # the columns grow (doubling) up to the capacity
        self.seq = np.zeros(size, dtype=np.int64)
        self.cols = {k: np.zeros(size, dtype=dt) for k, dt in columns.items()}
        self.n = 0          # rows held
        self.settled = 0    # rows [0, settled) are head or thinned rows; the rest are recent
        self.n_thin = 0     # settled rows numbered >= head
        self.stride = 1
        self.total = 0      # rows ever added
        self.version = 0    # changes whenever the rows change
        self.last = -1      # the number of the newest row

    def __len__(self) -> int:
        return self.n

    @property
    def thinned_out(self) -> bool:
        """True when rows have been dropped."""
        return self.n < self.total

    def column(self, name: str) -> np.ndarray:
        """A copy of one column ("seq" or a column name), oldest row first."""
        src = self.seq if name == "seq" else self.cols[name]
        return src[:self.n].copy()

    def _make_room(self) -> None:
        """Called when the columns are full: grow them (up to the capacity), else thin."""
        size = len(self.seq)
        if size < self.capacity:
            new = min(self.capacity, 2 * size)
            self.seq = np.concatenate([self.seq, np.zeros(new - size, dtype=self.seq.dtype)])
            for name, col in self.cols.items():
                self.cols[name] = np.concatenate([col, np.zeros(new - size, dtype=col.dtype)])
        else:
            self._settle()

    def extend(self, seq: np.ndarray, **values: Any) -> None:
        """Append rows numbered `seq` (increasing, after every number held); a value may be
        one number for all the rows."""
        k, i = len(seq), 0
        if k and int(seq[0]) <= self.last:
            raise ValueError("rows must be numbered in increasing order after the rows held")
        while i < k:
            if self.n == len(self.seq):
                self._make_room()
            take = min(len(self.seq) - self.n, k - i)
            a, b = self.n, self.n + take
            self.seq[a:b] = seq[i:i + take]
            for name, col in self.cols.items():
                v = values[name]
                col[a:b] = v[i:i + take] if isinstance(v, np.ndarray) else v
            self.n, i = b, i + take
            self.total += take
        if k:
            self.last = int(seq[-1])
        self.version += 1

    def append(self, seq: int, **values: Any) -> None:
        """Append one row (numbered after every row held)."""
        if seq <= self.last:
            raise ValueError(f"row {seq} does not come after row {self.last}")
        self.last = seq
        if self.n == len(self.seq):
            self._make_room()
        i = self.n
        self.seq[i] = seq
        for name, col in self.cols.items():
            col[i] = values[name]
        self.n = i + 1
        self.total += 1
        self.version += 1

    def _keep(self, mask: np.ndarray, lo: int, hi: int) -> None:
        """Keep rows lo..hi-1 where `mask`, closing the gap (the rows after hi move down)."""
        idx = np.flatnonzero(mask) + lo
        m = len(idx)
        end = self.n - (hi - lo) + m
        for col in (self.seq, *self.cols.values()):
            col[lo:lo + m] = col[idx]
            col[lo + m:end] = col[hi:self.n]
            if col.dtype == object:
                col[end:self.n] = None          # drop the references to the removed records
        self.n = end

    def _settle(self) -> None:
        """Move rows older than the recent window into the head or the thinned part."""
        old = (self.n - self.settled) - self.recent
        if old <= 0:
            return
        lo, hi = self.settled, self.settled + old
        s = self.seq[lo:hi]
        keep = (s < self.head) | (s % self.stride == 0)
        kept = int(keep.sum())
        self.n_thin += int((keep & (s >= self.head)).sum())
        self._keep(keep, lo, hi)
        self.settled += kept
        while self.n_thin > self.thinned:
            s = self.seq[:self.settled]
            keep = (s < self.head) | (s % (2 * self.stride) == 0)
            before = self.settled
            self._keep(keep, 0, before)
            self.settled = int(keep.sum())
            self.n_thin -= before - self.settled
            self.stride *= 2

    # -- saving and restoring ---------------------------------------------------------------------
    def state(self) -> dict[str, int]:
        return {"n": self.n, "settled": self.settled, "stride": self.stride, "total": self.total}

    def restore(self, state: dict[str, Any], seq: np.ndarray, what: str,
                **values: np.ndarray) -> None:
        """Put back what `state()` and the columns described; ValueError names what is wrong.
        Nothing changes unless everything checks out."""
        n = _int(state, "n", what, 0, self.capacity)
        settled = _int(state, "settled", what, 0, n)
        stride = _int(state, "stride", what, 1, _MAX_STRIDE)
        total = _int(state, "total", what, n, _MAX_STRIDE)
        if stride & (stride - 1):
            raise ValueError(f"{what}: stride {stride} is not a power of two")
        seq = np.asarray(seq)
        if seq.shape != (n,) or any(np.shape(v) != (n,) for v in values.values()):
            raise ValueError(f"{what}: expected {n} rows in every column")
        if n and (seq[0] < 0 or seq[-1] >= total or np.any(np.diff(seq) <= 0)):
            raise ValueError(f"{what}: row numbers must increase from 0 and stay below {total}")
        s = seq[:settled]
        thin = s[s >= self.head]
        if len(thin) > self.thinned or np.any(thin % stride):
            raise ValueError(f"{what}: the kept rows do not follow the thinning rule")
        if len(self.seq) < self.capacity:
            self.seq = np.zeros(self.capacity, dtype=self.seq.dtype)
            self.cols = {k: np.zeros(self.capacity, dtype=c.dtype) for k, c in self.cols.items()}
        self.seq[:n] = seq
        for name, col in self.cols.items():
            col[:n] = values[name]
        self.n, self.settled, self.n_thin = n, settled, len(thin)
        self.stride, self.total = stride, total
        self.last = int(seq[-1]) if n else -1
        self.version += 1


def _int(state: Any, key: str, what: str, lo: int, hi: int) -> int:
    v = state.get(key) if isinstance(state, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{what}: {key} must be an integer from {lo} to {hi}, got {v!r}")
    return int(v)


class History:
    """Epoch records and per-batch losses, bounded as the module docstring says.

    Read `epochs` (a list of the kept records, oldest first), `last_epoch`, `epoch_count`, and
    the batch columns `batch_step`, `batch_epoch`, `batch_index`, `batch_loss` (NumPy copies).
    """

    def __init__(self, epochs: Iterable[EpochRecord] = (), *,
                 epoch_policy: tuple[int, int, int] | None = None,
                 batch_policy: tuple[int, int, int] | None = None) -> None:
        """`epoch_policy`, `batch_policy`: (head, thinned, recent); default EPOCH_POLICY and
        BATCH_POLICY (read when the history is made)."""
        self._epochs = Thinned({"rec": object}, *(epoch_policy or EPOCH_POLICY))
        self._batches = Thinned({"epoch": np.int32, "batch": np.int32, "loss": np.float64},
                                *(batch_policy or BATCH_POLICY))
        # single steps, staged as plain lists (cheaper than any NumPy call per step)
        self._pending: tuple[list[int], list[int], list[int], list[float]] = ([], [], [], [])
        self._epoch_list: list[EpochRecord] = []
        self._epoch_list_version = 0
        self._last: EpochRecord | None = None
        for rec in epochs:
            self.add_epoch(rec)

    # -- recording ---------------------------------------------------------------------------------
    def add_epoch(self, rec: EpochRecord) -> None:
        self._epochs.append(rec.epoch - 1, rec=rec)
        self._last = rec

    def add_batch(self, step: int, epoch: int, batch: int, loss: float) -> None:
        """One mini-batch (the stepping path: staged, moved to the columns in blocks)."""
        s, e, b, l = self._pending
        s.append(step)
        e.append(epoch)
        b.append(batch)
        l.append(loss)
        if len(s) >= _PENDING:
            self._flush()

    def add_batches(self, step: int, epoch: int, first: int, losses: np.ndarray) -> None:
        """Mini-batches step, step+1, … of one epoch, numbered first, first+1, … in it."""
        self._flush()
        r = np.arange(len(losses))
        self._batches.extend(r + (step - 1), epoch=epoch, batch=r + first,
                             loss=np.asarray(losses, dtype=np.float64))

    def _flush(self) -> None:
        s, e, b, l = self._pending
        if s:
            self._pending = ([], [], [], [])
            self._batches.extend(np.array(s, dtype=np.int64) - 1, epoch=np.array(e),
                                 batch=np.array(b), loss=np.array(l, dtype=np.float64))

    # -- reading -----------------------------------------------------------------------------------
    @property
    def epochs(self) -> list[EpochRecord]:
        """The kept epoch records, oldest first (do not modify; rebuilt after each new epoch)."""
        if self._epoch_list_version != self._epochs.version:
            self._epoch_list = self._epochs.cols["rec"][:len(self._epochs)].tolist()
            self._epoch_list_version = self._epochs.version
        return self._epoch_list

    @property
    def last_epoch(self) -> EpochRecord | None:
        return self._last

    @property
    def epoch_count(self) -> int:
        """Epochs recorded in all (kept or thinned out); changes with every new epoch."""
        return self._epochs.total

    @property
    def batch_count(self) -> int:
        """Mini-batches recorded in all (kept or thinned out)."""
        return self._batches.total + len(self._pending[0])

    @property
    def last_batch_loss(self) -> float | None:
        if self._pending[3]:
            return self._pending[3][-1]
        b = self._batches
        return float(b.cols["loss"][b.n - 1]) if b.n else None

    @property
    def decimated(self) -> bool:
        """True when some epoch or mini-batch records were thinned out."""
        self._flush()
        return self._epochs.thinned_out or self._batches.thinned_out

    def _col(self, name: str) -> np.ndarray:
        self._flush()
        return self._batches.column(name)

    @property
    def batch_step(self) -> np.ndarray:
        """Global step (1-based) of each kept mini-batch."""
        return self._col("seq") + 1

    @property
    def batch_epoch(self) -> np.ndarray:
        """1-based epoch of each kept mini-batch."""
        return self._col("epoch").astype(np.int64)

    @property
    def batch_index(self) -> np.ndarray:
        """1-based batch number within its epoch."""
        return self._col("batch").astype(np.int64)

    @property
    def batch_loss(self) -> np.ndarray:
        """Mini-batch loss before that step's update."""
        return self._col("loss")

    def batches(self) -> list[dict[str, float]]:
        """The kept mini-batches as rows {step, epoch, batch, loss}."""
        return [{"step": s, "epoch": e, "batch": b, "loss": l} for s, e, b, l in zip(
            self.batch_step.tolist(), self.batch_epoch.tolist(), self.batch_index.tolist(),
            self.batch_loss.tolist())]

    def summary(self) -> dict[str, Any]:
        """How much was kept: {"decimated", "epochs_kept", "epochs_total", "batches_kept",
        "batches_total"}."""
        self._flush()
        return {"decimated": self.decimated, "epochs_kept": len(self._epochs),
                "epochs_total": self._epochs.total, "batches_kept": len(self._batches),
                "batches_total": self._batches.total}

    def nbytes(self) -> int:
        """Bytes held by the batch columns plus an estimate for the epoch records."""
        b = self._batches
        cols = b.seq.nbytes + sum(c.nbytes for c in b.cols.values())
        per_epoch = 400 + 64 * (len(self._last.grad_norms) if self._last else 0)
        return cols + 2 * self._epochs.seq.nbytes + len(self._epochs) * per_epoch

    # -- saving and restoring ------------------------------------------------------------------
    def state(self, n_layers: int | None = None) -> dict[str, Any]:
        """Everything needed to restore this history exactly: the thinning counters, the kept
        epoch records as one float table (`epoch_table`, see EPOCH_COLUMNS; `n_layers` dense
        layers, default: as the records say) with their distinct warning lists, and the batch
        columns. Arrays and JSON-friendly values only."""
        self._flush()
        recs = self.epochs
        table, warnings = epoch_table(recs, n_layers)
        return {
            "epoch_log": self._epochs.state(), "batch_log": self._batches.state(),
            "epoch_warnings": warnings, "epoch_table": table,
            "batch_step": self.batch_step, "batch_epoch": self.batch_epoch,
            "batch_index": self.batch_index, "batch_loss": self.batch_loss,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], n_layers: int) -> "History":
        """The history `state()` described; ValueError names the first value that is wrong."""
        if not isinstance(state, dict):
            raise ValueError("history must be a table")
        h = cls()
        epochs = epoch_records(state.get("epoch_table"), state.get("epoch_warnings"), n_layers,
                               h._epochs.capacity)
        recs_col = np.empty(len(epochs), dtype=object)
        recs_col[:] = epochs
        h._epochs.restore(state.get("epoch_log"), np.array([r.epoch - 1 for r in epochs], dtype=np.int64),
                          "history.epoch_log", rec=recs_col)
        cols = {}
        for key in ("batch_step", "batch_epoch", "batch_index", "batch_loss"):
            arr = np.asarray(state.get(key))
            want = "f" if key == "batch_loss" else "iu"
            if arr.ndim != 1 or arr.dtype.kind not in want:
                raise ValueError(f"history.{key} must be a 1-D {'float' if want == 'f' else 'integer'} array")
            cols[key] = arr
        lim = np.iinfo(np.int32).max
        for key in ("batch_epoch", "batch_index"):
            if len(cols[key]) and (cols[key].min() < 1 or cols[key].max() > lim):
                raise ValueError(f"history.{key} must hold integers from 1 to {lim}")
        if not np.all(np.isfinite(cols["batch_loss"])):
            raise ValueError("history.batch_loss holds non-finite values")
        if len(cols["batch_step"]) and cols["batch_step"].min() < 1:
            raise ValueError("history.batch_step must hold steps >= 1")
        h._batches.restore(state.get("batch_log"), cols["batch_step"].astype(np.int64) - 1,
                           "history.batch_log", epoch=cols["batch_epoch"], batch=cols["batch_index"],
                           loss=cols["batch_loss"])
        h._last = epochs[-1] if epochs else None
        return h


#: The columns of a saved epoch table, then L gradient norms and L weight norms. `none`: bit 0
#: set when test_loss is None, bit 1 when test_metric is None; `metric`: 0 accuracy, 1 mae;
#: `warnings`: an index into the table's distinct warning lists, −1 for none.
EPOCH_COLUMNS = ("epoch", "train_loss", "test_loss", "train_metric", "test_metric", "penalty",
                 "learning_rate", "seconds", "batches", "metric", "none", "warnings")
_METRICS = ("accuracy", "mae")


def epoch_table(recs: list[EpochRecord],
                n_layers: int | None = None) -> tuple[np.ndarray, list[list[str]]]:
    """Epoch records as a float64 table (rows × EPOCH_COLUMNS + 2L) and their distinct warning
    lists (what a checkpoint stores: compact, and checked without parsing 10,000 objects)."""
    if n_layers is None:
        n_layers = len(recs[0].grad_norms) if recs else 0
    table = np.zeros((len(recs), len(EPOCH_COLUMNS) + 2 * n_layers))
    distinct: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(recs):
        key = tuple(r.warnings)
        w = distinct.setdefault(key, len(distinct)) if key else -1
        table[i, :len(EPOCH_COLUMNS)] = (
            r.epoch, r.train_loss, np.nan if r.test_loss is None else r.test_loss, r.train_metric,
            np.nan if r.test_metric is None else r.test_metric, r.penalty, r.learning_rate,
            r.seconds, r.batches, _METRICS.index(r.metric),
            (r.test_loss is None) + 2 * (r.test_metric is None), w)
        table[i, len(EPOCH_COLUMNS):] = r.grad_norms + r.weight_norms
    return table, [list(k) for k in distinct]


def epoch_records(table: Any, warnings: Any, n_layers: int, most: int) -> list[EpochRecord]:
    """The records `epoch_table` described, every column checked (ValueError names it)."""
    t = np.asarray(table)
    width = len(EPOCH_COLUMNS) + 2 * n_layers
    if t.dtype.kind != "f" or t.ndim != 2 or t.shape[1] != width or len(t) > most:
        raise ValueError(f"history.epoch_table must be a float table of at most {most} rows × "
                         f"{width} columns, got {t.dtype} {t.shape}")
    if (not isinstance(warnings, list) or len(warnings) > most
            or not all(isinstance(ws, list) and 0 < len(ws) <= 16
                       and all(isinstance(w, str) and len(w) <= 500 for w in ws) for ws in warnings)):
        raise ValueError("history.epoch_warnings must be a list of lists of at most 16 short strings")
    t = t.astype(np.float64)
    c = {name: t[:, i] for i, name in enumerate(EPOCH_COLUMNS)}
    norms = t[:, len(EPOCH_COLUMNS):]

    def check(name: str, ok: np.ndarray) -> None:
        if not np.all(ok):
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"history.epoch_table row {row}: {name} has a bad value")

    def whole(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return np.isfinite(v) & (v == np.round(v)) & (v >= lo) & (v <= hi)

    with np.errstate(invalid="ignore"):
        check("epoch", whole(c["epoch"], 1, _MAX_STRIDE))
        check("batches", whole(c["batches"], 0, _MAX_STRIDE))
        check("metric", whole(c["metric"], 0, 1))
        check("none", whole(c["none"], 0, 3))
        check("warnings", whole(c["warnings"], -1, len(warnings) - 1))
        for name in ("learning_rate", "seconds"):
            check(name, np.isfinite(c[name]) & (c[name] >= 0))
        check("penalty", ~(c["penalty"] < 0))
        check("grad_norms/weight_norms", ~(norms < 0))
    out = []
    for row in t.tolist():
        none = int(row[10])
        w = int(row[11])
        out.append(EpochRecord(
            epoch=int(row[0]), train_loss=row[1], test_loss=None if none & 1 else row[2],
            train_metric=row[3], test_metric=None if none & 2 else row[4],
            metric=_METRICS[int(row[9])], penalty=row[5], learning_rate=row[6],
            grad_norms=row[12:12 + n_layers], weight_norms=row[12 + n_layers:], seconds=row[7],
            batches=int(row[8]), warnings=list(warnings[w]) if w >= 0 else []))
    return out


def epoch_record(d: Any, n_layers: int, what: str) -> EpochRecord:
    """An EpochRecord from its dict (format-1 checkpoints), every field checked (ValueError
    names the field)."""
    names = [f.name for f in fields(EpochRecord)]
    if not isinstance(d, dict) or set(d) - set(names) or set(names[:-1]) - set(d):
        raise ValueError(f"{what} must be a table with the keys {', '.join(names)}")

    def num(key: str, optional: bool = False,
            check: Callable[[float], bool] = lambda v: True) -> float | None:
        v = d[key]
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not check(float(v)):
            raise ValueError(f"{what}.{key} has a bad value {v!r}")
        return float(v)

    def count(key: str, lo: int) -> int:
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= _MAX_STRIDE:
            raise ValueError(f"{what}.{key} must be an integer >= {lo}, got {v!r}")
        return v

    def norms(key: str) -> list[float]:
        v = d[key]
        if (not isinstance(v, list) or len(v) != n_layers
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
            raise ValueError(f"{what}.{key} must be a list of {n_layers} numbers")
        return [float(x) for x in v]

    if d["metric"] not in ("accuracy", "mae"):
        raise ValueError(f"{what}.metric must be 'accuracy' or 'mae', got {d['metric']!r}")
    warnings = d.get("warnings", [])
    if (not isinstance(warnings, list) or len(warnings) > 16
            or not all(isinstance(w, str) and len(w) <= 500 for w in warnings)):
        raise ValueError(f"{what}.warnings must be a list of at most 16 short strings")
    nonneg = lambda v: v >= 0 or math.isnan(v)  # noqa: E731 - NaN/inf losses are real results
    return EpochRecord(
        epoch=count("epoch", 1), train_loss=num("train_loss"), test_loss=num("test_loss", True),
        train_metric=num("train_metric"), test_metric=num("test_metric", True),
        metric=d["metric"], penalty=num("penalty", check=nonneg),
        learning_rate=num("learning_rate", check=lambda v: 0 <= v < math.inf),
        grad_norms=norms("grad_norms"), weight_norms=norms("weight_norms"),
        seconds=num("seconds", check=lambda v: 0 <= v < math.inf), batches=count("batches", 0),
        warnings=list(warnings))
