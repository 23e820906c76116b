"""Checkpoints as `.npz` (a zip of `.npy` arrays, no pickle). Writes are atomic (temp file, then
rename).

What a full checkpoint holds (format "nnsim-checkpoint-2"):

- `layer{i}.W`, `layer{i}.b`: the weights, in the network's dtype;
- `optimizer.s1`, `optimizer.s2`: the optimizer's per-parameter state (velocity, accumulators,
  moments);
- `history.epoch_table`: the kept epoch records, one row each (`history.EPOCH_COLUMNS`, then the
  per-layer norms);
- `history.batch_step`, `history.batch_epoch`, `history.batch_index`, `history.batch_loss`: the
  kept mini-batch records (bounded: see `engine.history`);
- `meta`: UTF-8 JSON (uint8 bytes): format, optimizer settings, counters, the RNG state, the
  history's thinning counters and the epochs' distinct warning lists.

A file holding only the weights loads into any network of the same shapes and starts the
optimizer fresh; a full checkpoint resumes exactly (the next step equals the original run's).

Reading never trusts the file: it must be a regular file no larger than the network can need;
the zip's directory is read first and every member's name, compression, encryption flag and
declared size are checked before a byte is decompressed; only known members are read (an
unknown or duplicated member is refused), each through a size-capped read; each `.npy` header's
dtype and shape are checked before its data is used; then every value (finite weights and
optimizer state, counters, learning rate, RNG state, history) is checked by the trainer. Any
problem raises `CheckpointError` naming the file and the field, and leaves the trainer as it was.
Format-1 files (history as JSON in `meta`) are still read.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from .history import BATCH_POLICY, EPOCH_COLUMNS, EPOCH_POLICY, History, epoch_record
from .trainer import Trainer

FORMAT = "nnsim-checkpoint-2"
FORMAT_1 = "nnsim-checkpoint-1"
HISTORY_COLUMNS = ("epoch_table", "batch_step", "batch_epoch", "batch_index", "batch_loss")
#: Most bytes the JSON in `meta` may take (the bounded history keeps it to a few MB).
META_MAX = 64 << 20
_HEADER_MAX = 4096          # an .npy header (numpy writes 128 bytes for these arrays)
_ZIP_SLACK = 1 << 20        # room for the zip's own headers


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit the network."""


class _Misfit(ValueError):
    """A readable checkpoint made for another network (other layers or shapes)."""


def save_checkpoint(trainer: Trainer, path: str | os.PathLike, weights_only: bool = False) -> None:
    """Write the trainer's network (and, unless `weights_only`, everything needed to resume)."""
    write_checkpoint(checkpoint_arrays(trainer, weights_only), path)


def write_checkpoint(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write what `checkpoint_arrays` returned (atomically; touches no trainer)."""
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def checkpoint_arrays(trainer: Trainer, weights_only: bool = False) -> dict[str, np.ndarray]:
    """Copies of everything a checkpoint of `trainer` holds, by member name. Quick (the history
    is bounded); the app takes them under its lock and writes them in a thread."""
    arrays: dict[str, np.ndarray] = dict(trainer.net.get_weights())
    if not weights_only:
        state = trainer.state_dict()
        arrays["optimizer.s1"] = state.pop("s1")
        arrays["optimizer.s2"] = state.pop("s2")
        hist = state.pop("history")
        for key in HISTORY_COLUMNS:
            arrays[f"history.{key}"] = np.asarray(hist.pop(key))
        state["history"] = hist
        text = json.dumps({"format": FORMAT, **state}, default=int)
        arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return arrays


# -- reading ------------------------------------------------------------------------------------
def _limits(trainer: Trainer) -> dict[str, tuple[str, tuple[int, ...] | None, int]]:
    """Every member a checkpoint for `trainer` may hold: name -> (dtype kinds, shape or None for
    1-D up to a length, the most data bytes)."""
    net = trainer.net
    out: dict[str, tuple[str, tuple[int, ...] | None, int]] = {}
    for sl in net.param_slices():
        out[sl.name] = ("f", sl.shape, 8 * sl.size)
    n = net.n_params
    out["optimizer.s1"] = out["optimizer.s2"] = ("f", (n,), 8 * n)
    rows = sum(BATCH_POLICY) + BATCH_POLICY[2] // 4
    for key in HISTORY_COLUMNS[1:]:
        out[f"history.{key}"] = ("f" if key == "batch_loss" else "iu", None, 8 * rows)
    width = len(EPOCH_COLUMNS) + 2 * net.n_dense
    out["history.epoch_table"] = ("f", (None, width), 8 * width * (sum(EPOCH_POLICY) + EPOCH_POLICY[2] // 4))
    out["meta"] = ("uU", None, META_MAX)
    return out


def _read_npy(raw: bytes, name: str, kinds: str, shape: tuple[int, ...] | None,
              max_bytes: int) -> np.ndarray:
    """Parse one .npy member, checking its header (dtype kind, shape, size) before the data."""
    fp = io.BytesIO(raw)
    try:
        major, _ = np.lib.format.read_magic(fp)
        read = {1: np.lib.format.read_array_header_1_0, 2: np.lib.format.read_array_header_2_0}.get(major)
        if read is None:
            raise ValueError(f"unsupported .npy version {major}")
        shp, fortran, dtype = read(fp, max_header_size=_HEADER_MAX)
    except (ValueError, SyntaxError, TypeError, EOFError, struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"is not a valid .npy array ({exc})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        want = {"f": "floating-point numbers", "iu": "integers", "uU": "the JSON text"}[kinds]
        raise ValueError(f"has dtype {dtype}; expected {want}")
    if name == "meta":
        ok = (shp == () and dtype.kind == "U") or (len(shp) == 1 and dtype == np.uint8)
    elif shape is None:
        ok = len(shp) == 1
    elif shape[0] is None:                      # a table: any number of rows
        ok = len(shp) == 2 and shp[1] == shape[1]
    else:
        ok = tuple(shp) == tuple(shape)
    if any(d < 0 for d in shp):
        raise ValueError(f"has a negative dimension {tuple(shp)}")
    if not ok:
        if shape is not None and name.startswith("layer"):
            raise _Misfit(f"{name} has shape {tuple(shp)}, expected {shape}")
        raise ValueError(f"has shape {tuple(shp)}, expected {shape if shape is not None else '1-D'}")
    count = math.prod(shp)
    nbytes = count * dtype.itemsize
    if nbytes > max_bytes:
        raise ValueError(f"holds {nbytes} bytes, more than {max_bytes}")
    data = raw[fp.tell():]
    if len(data) != nbytes:
        raise ValueError(f"holds {len(data)} bytes of data, its header says {nbytes}")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(shp, order="F" if fortran else "C")


def read_members(trainer: Trainer, path: Path) -> dict[str, np.ndarray]:
    """The checkpoint's arrays, every check before decompressing (ValueError says what)."""
    limits = _limits(trainer)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("is not a regular file")
    cap = sum(b + _HEADER_MAX for _, _, b in limits.values()) + _ZIP_SLACK
    if st.st_size > cap:
        raise ValueError(f"is {st.st_size} bytes, more than a checkpoint of this network can be ({cap})")
    arrays: dict[str, np.ndarray] = {}
    try:
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            seen: set[str] = set()
            for info in infos:
                name = info.filename.removesuffix(".npy")
                if name not in limits or not info.filename.endswith(".npy"):
                    if re.fullmatch(r"layer\d+\.[Wb]\.npy", info.filename):
                        raise _Misfit(f"it holds {name}, which this network does not have "
                                      f"(its weights: {', '.join(_names(trainer.net))})")
                    raise ValueError(f"holds an unexpected member {info.filename!r}")
                if name in seen:
                    raise ValueError(f"holds member {info.filename!r} twice")
                seen.add(name)
                if info.flag_bits & 0x1:
                    raise ValueError(f"member {info.filename!r} is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ValueError(f"member {info.filename!r} uses an unsupported compression")
                limit = limits[name][2] + _HEADER_MAX
                if info.file_size > limit:
                    raise ValueError(f"member {info.filename!r} declares {info.file_size} bytes, "
                                     f"more than the {limit} it can need")
            for info in infos:
                name = info.filename.removesuffix(".npy")
                limit = limits[name][2] + _HEADER_MAX
                with zf.open(info) as member:
                    raw = member.read(limit + 1)
                if len(raw) != info.file_size:
                    raise ValueError(f"member {info.filename!r} holds {len(raw)} bytes, its "
                                     f"header says {info.file_size}")
                kinds, shape, max_bytes = limits[name]
                try:
                    arrays[name] = _read_npy(raw, name, kinds, shape, max_bytes)
                except _Misfit:
                    raise
                except ValueError as exc:
                    raise ValueError(f"member {info.filename!r} {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            NotImplementedError, RuntimeError, struct.error, UnicodeDecodeError,
            OverflowError) as exc:
        raise ValueError(f"is not a readable .npz checkpoint ({type(exc).__name__}: {exc}); "
                         "write one with `nnsim run --save` or the app's `s`") from None
    return arrays


def _meta(arr: np.ndarray) -> dict[str, Any]:
    try:
        text = str(arr[()]) if arr.dtype.kind == "U" else arr.tobytes().decode("utf-8")
        meta = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"meta is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise ValueError("meta must be a JSON object")
    return meta


def _legacy_history(d: Any, n_layers: int) -> dict[str, Any]:
    """A format-1 history ({"epochs": [...], "batches": [{epoch, batch, loss}]}) in the form
    `History.from_state` reads (thinned as a new history would be)."""
    if not isinstance(d, dict) or not isinstance(d.get("epochs"), list) \
            or not isinstance(d.get("batches"), list):
        raise ValueError("history must hold lists 'epochs' and 'batches'")
    if len(d["epochs"]) > 10 * sum(EPOCH_POLICY) or len(d["batches"]) > 100 * sum(BATCH_POLICY):
        raise ValueError("history is too long")
    h = History()
    for i, r in enumerate(d["epochs"]):
        h.add_epoch(epoch_record(r, n_layers, f"history.epochs[{i}]"))
    for i, row in enumerate(d["batches"]):
        ok = (isinstance(row, dict) and set(row) == {"epoch", "batch", "loss"}
              and all(type(row[k]) is int and 1 <= row[k] < 2**31 for k in ("epoch", "batch"))
              and isinstance(row["loss"], (int, float)) and not isinstance(row["loss"], bool))
        if not ok:
            raise ValueError(f"history.batches[{i}] must be {{epoch, batch, loss}} with positive integers")
        h.add_batch(i + 1, row["epoch"], row["batch"], float(row["loss"]))
    return h.state(n_layers)


def load_checkpoint(trainer: Trainer, path: str | os.PathLike) -> bool:
    """Load weights (and full state if present) into `trainer`. Returns True if it resumed.
    Raises CheckpointError (naming the file and what is wrong); the trainer is then unchanged."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"checkpoint file not found: {p}")
    try:
        arrays = read_members(trainer, p)
    except _Misfit as exc:
        raise CheckpointError(f"{p} does not fit this network: {exc}") from None
    except ValueError as exc:
        raise CheckpointError(f"{p} {exc}") from None
    state = None
    if "meta" in arrays:
        state = _state(trainer, p, arrays)
    elif set(arrays) - set(_names(trainer.net)):
        raise CheckpointError(f"{p} holds optimizer or history arrays but no meta")
    net = trainer.net
    missing = [k for k in _names(net) if k not in arrays]
    if missing:
        raise CheckpointError(f"{p} does not fit this network: it has no {', '.join(missing)}")
    saved = net.P.copy()
    try:
        net.set_weights(arrays)
    except ValueError as exc:
        raise CheckpointError(f"{p}: {exc}") from None
    if state is None:
        trainer.reset_state()
        return False
    try:
        trainer.load_state(state)
    except ValueError as exc:
        net.P[:] = saved
        raise CheckpointError(f"{p}: {exc}") from None
    return True


def _state(trainer: Trainer, p: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The trainer state a full checkpoint describes (values are checked by the trainer)."""
    try:
        meta = _meta(arrays["meta"])
        fmt = meta.pop("format", None)
        if fmt not in (FORMAT, FORMAT_1):
            raise ValueError(f"has an unknown checkpoint format {fmt!r}")
        for key in ("optimizer.s1", "optimizer.s2"):
            if key not in arrays:
                raise ValueError(f"is missing {key}")
        meta["s1"], meta["s2"] = arrays["optimizer.s1"], arrays["optimizer.s2"]
        if fmt == FORMAT_1:
            meta["history"] = _legacy_history(meta.get("history"), trainer.net.n_dense)
        else:
            if not isinstance(meta.get("history"), dict):
                raise ValueError("meta.history must be a table")
            for key in HISTORY_COLUMNS:
                if f"history.{key}" not in arrays:
                    raise ValueError(f"is missing history.{key}")
                if key in meta["history"]:
                    raise ValueError(f"meta.history must not hold {key}")
                meta["history"][key] = arrays[f"history.{key}"]
    except ValueError as exc:
        raise CheckpointError(f"{p} {exc}") from None
    return meta


def _names(net: Any) -> list[str]:
    return [sl.name for sl in net.param_slices()]
