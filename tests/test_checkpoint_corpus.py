"""Broken checkpoints (issue 9): every file in a generated corpus raises CheckpointError — never
another exception — leaves the trainer as it was, and a zip bomb costs no memory.

The corpus is made here from one valid checkpoint: byte flips at a seeded sample of positions,
truncations, tampered metadata of every kind, tampered arrays (dtypes, shapes, values), zip
members that are unknown, doubled, encrypted, bzip2-compressed or far larger than declared, and
files that are not regular files.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from nnsim.engine import Dense, Network, Trainer
from nnsim.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def make(dtype: str = "float32") -> Trainer:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (30, 2))
    y = (x[:, 0] > 0).astype(int)
    net = Network(2, [Dense(4, "tanh"), Dense(1, "sigmoid")], seed=1, dtype=dtype)
    return Trainer(net, x, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.01,
                   batch_size=8, seed=2)


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    tr = make()
    for _ in tr.train(2):
        pass
    tr.step_batch()
    path = tmp_path_factory.mktemp("ckpt") / "valid.npz"
    save_checkpoint(tr, path)
    return path


def members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def meta_of(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(arrays["meta"].tobytes().decode())


def write(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> Path:
    out = dict(arrays)
    if meta is not None:
        out["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **out)
    return path


def assert_refused(path: Path) -> CheckpointError:
    """load_checkpoint raises CheckpointError naming the file, and the trainer is unchanged."""
    tr = make()
    P, step = tr.net.P.copy(), tr.step
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tr, path)
    assert path.name in str(info.value)
    np.testing.assert_array_equal(tr.net.P, P)
    assert tr.step == step
    return info.value


def test_the_valid_file_loads(valid: Path) -> None:
    assert load_checkpoint(make(), valid) is True


def test_byte_flips(valid: Path, tmp_path: Path) -> None:
    """A flipped byte anywhere either is refused with CheckpointError or (in bytes nothing
    reads: a zip timestamp, the extra field) loads a valid trainer. 300 seeded positions."""
    raw = valid.read_bytes()
    rng = np.random.default_rng(9)
    refused = loaded = 0
    for i, pos in enumerate(rng.choice(len(raw), size=min(300, len(raw)), replace=False)):
        bad = bytearray(raw)
        bad[pos] ^= int(rng.integers(1, 256))
        path = tmp_path / f"flip{i}.npz"
        path.write_bytes(bytes(bad))
        tr = make()
        try:
            load_checkpoint(tr, path)
        except CheckpointError:
            refused += 1
        else:
            loaded += 1
            assert np.all(np.isfinite(tr.net.P))
    # most bytes are array data or headers that are checked (CRC, names, sizes); the rest are
    # zip fields nothing depends on (timestamps, version numbers, attributes)
    assert refused > 200, (refused, loaded)


@pytest.mark.parametrize("keep", [0, 1, 22, 100, 0.3, 0.6, 0.95, -1])
def test_truncated(valid: Path, tmp_path: Path, keep: float) -> None:
    raw = valid.read_bytes()
    n = int(keep * len(raw)) if isinstance(keep, float) else (keep if keep >= 0 else len(raw) - 1)
    path = tmp_path / "cut.npz"
    path.write_bytes(raw[:n])
    assert_refused(path)


META_TAMPER: dict[str, Callable[[dict], None]] = {
    "t float 1e30": lambda m: m.update(t=1e30),
    "t huge int": lambda m: m.update(t=10**30),
    "t string": lambda m: m.update(t="3"),
    "t above step": lambda m: m.update(t=m["step"] + 1),
    "epoch -5": lambda m: m.update(epoch=-5),
    "step bool": lambda m: m.update(step=True),
    "pos beyond the data": lambda m: m.update(pos=10_000),
    "batch without pos": lambda m: m.update(batch=3, pos=0),
    "lr negative": lambda m: m.update(base_lr=-0.1),
    "lr NaN": lambda m: m.update(base_lr=float("nan")),
    "lr infinite": lambda m: m.update(base_lr=float("inf")),
    "lr string": lambda m: m.update(base_lr="fast"),
    "lr below float32": lambda m: m.update(base_lr=1e-50),
    "batch_size 0": lambda m: m.update(batch_size=0),
    "max_grad_norm NaN": lambda m: m.update(max_grad_norm=float("nan")),
    "grad norm sums short": lambda m: m.update(epoch_grad_norm_sum=[0.0]),
    "grad norm sums inf": lambda m: m.update(epoch_grad_norm_sum=[float("inf"), 0.0]),
    "optimizer other": lambda m: m.update(optimizer={"name": "sgd"}),
    "optimizer not a table": lambda m: m.update(optimizer="adam"),
    "optimizer bad setting": lambda m: m["optimizer"].update(beta1=5.0),
    "rng not a table": lambda m: m.update(rng=[1, 2]),
    "rng other generator": lambda m: m["rng"].update(bit_generator="MT19937"),
    "rng state float": lambda m: m["rng"]["state"].update(state=1.5),
    "rng state negative": lambda m: m["rng"]["state"].update(inc=-1),
    "plan_drawn string": lambda m: m.update(plan_drawn="yes"),
    "seed negative": lambda m: m.update(seed=-1),
    "unknown key": lambda m: m.update(extra=1),
    "format unknown": lambda m: m.update(format="nnsim-checkpoint-99"),
    "history not a table": lambda m: m.update(history=[]),
    "history warnings missing": lambda m: m["history"].pop("epoch_warnings"),
    "history warnings not lists": lambda m: m["history"].update(epoch_warnings=["x"]),
    "history warnings not strings": lambda m: m["history"].update(epoch_warnings=[[1]]),
    "history table inside meta": lambda m: m["history"].update(epoch_table=[[1.0]]),
    "history epoch count off": lambda m: m["history"]["epoch_log"].update(total=7),
    "history stride not a power of 2": lambda m: m["history"]["batch_log"].update(stride=3),
    "unit_warnings not a list": lambda m: m.update(unit_warnings="saturated"),
    **{f"missing {k}": (lambda k: lambda m: m.pop(k))(k)  # noqa: B023 - bound by the outer lambda
       for k in ("optimizer", "t", "epoch", "pos", "batch", "step", "samples_seen",
                 "max_grad_norm", "base_lr", "batch_size", "epoch_grad_norm_sum", "rng",
                 "plan_drawn", "seed", "history")},
}


@pytest.mark.parametrize("name", sorted(META_TAMPER))
def test_tampered_metadata(valid: Path, tmp_path: Path, name: str) -> None:
    arrays = members(valid)
    meta = meta_of(arrays)
    META_TAMPER[name](meta)
    err = assert_refused(write(tmp_path / "m.npz", arrays, meta))
    assert "Traceback" not in str(err)


@pytest.mark.parametrize("text", [b"", b"[]", b"{", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000,
                                  b'{"format": "nnsim-checkpoint-2", "t": 1' + b"0" * 5000 + b"}"],
                         ids=["empty", "list", "cut", "not utf-8", "nested 100k deep", "5000 digits"])
def test_meta_that_is_not_a_json_object(valid: Path, tmp_path: Path, text: bytes) -> None:
    arrays = members(valid)
    arrays["meta"] = np.frombuffer(text, dtype=np.uint8) if text else np.zeros(0, np.uint8)
    assert_refused(write(tmp_path / "j.npz", arrays))


ARRAY_TAMPER: dict[str, Callable[[dict], None]] = {
    "complex weights": lambda a: a.update({"layer0.W": a["layer0.W"].astype(np.complex128)}),
    "datetime weights": lambda a: a.update({"layer0.W": np.zeros((2, 4), "datetime64[s]")}),
    "string weights": lambda a: a.update({"layer0.W": np.full((2, 4), "x")}),
    "bool weights": lambda a: a.update({"layer0.W": np.ones((2, 4), bool)}),
    "integer weights": lambda a: a.update({"layer0.W": np.ones((2, 4), np.int64)}),
    "structured weights": lambda a: a.update({"layer0.W": np.zeros((2, 4), [("a", "f8")])}),
    "infinite bias": lambda a: a["layer0.b"].__setitem__(0, np.inf),
    "NaN weight": lambda a: a["layer1.W"].__setitem__((0, 0), np.nan),
    "float64 beyond float32": lambda a: a.update({"layer0.b": np.full(4, 1e300)}),
    "wrong shape": lambda a: a.update({"layer0.W": np.zeros((4, 2), np.float32)}),
    "missing weight": lambda a: a.pop("layer1.b"),
    "weights of another network": lambda a: a.update({"layer5.W": np.zeros((1, 1), np.float32)}),
    "optimizer state inf": lambda a: a["optimizer.s1"].__setitem__(0, np.inf),
    "optimizer state negative v": lambda a: a["optimizer.s2"].__setitem__(0, -1.0),
    "optimizer state short": lambda a: a.update({"optimizer.s2": a["optimizer.s2"][:3]}),
    "optimizer state missing": lambda a: a.pop("optimizer.s1"),
    "history loss NaN": lambda a: a["history.batch_loss"].__setitem__(0, np.nan),
    "history steps unordered": lambda a: a["history.batch_step"].__setitem__(slice(0, 2), [2, 1]),
    "history epoch zero": lambda a: a["history.batch_epoch"].__setitem__(0, 0),
    "history column float": lambda a: a.update({"history.batch_step": a["history.batch_step"] * 1.0}),
    "history column 2-D": lambda a: a.update({"history.batch_loss": a["history.batch_loss"][:, None]}),
    "history column missing": lambda a: a.pop("history.batch_index"),
    "epoch table missing": lambda a: a.pop("history.epoch_table"),
    "epoch table too narrow": lambda a: a.update({"history.epoch_table": a["history.epoch_table"][:, :5]}),
    "epoch table epoch zero": lambda a: a["history.epoch_table"].__setitem__((0, 0), 0),
    "epoch table epoch fraction": lambda a: a["history.epoch_table"].__setitem__((0, 0), 1.5),
    "epoch table metric code": lambda a: a["history.epoch_table"].__setitem__((0, 9), 5),
    "epoch table none flags": lambda a: a["history.epoch_table"].__setitem__((0, 10), 9),
    "epoch table warning index": lambda a: a["history.epoch_table"].__setitem__((0, 11), 3),
    "epoch table learning rate": lambda a: a["history.epoch_table"].__setitem__((0, 6), -1),
    "epoch table seconds inf": lambda a: a["history.epoch_table"].__setitem__((0, 7), np.inf),
    "epoch table negative norm": lambda a: a["history.epoch_table"].__setitem__((0, 12), -1),
    "epoch table integers": lambda a: a.update(
        {"history.epoch_table": np.nan_to_num(a["history.epoch_table"]).astype(int)}),
    "unknown member": lambda a: a.update({"notes": np.zeros(3)}),
    "meta of the wrong dtype": lambda a: a.update({"meta": np.zeros(4, np.float64)}),
    "no meta but optimizer state": lambda a: a.pop("meta"),
}


@pytest.mark.parametrize("name", sorted(ARRAY_TAMPER))
def test_tampered_arrays(valid: Path, tmp_path: Path, name: str) -> None:
    arrays = members(valid)
    ARRAY_TAMPER[name](arrays)
    assert_refused(write(tmp_path / "a.npz", arrays))


# -- zip-level corpus: written by hand so that headers can lie ----------------------------------
def raw_zip(entries: list[dict[str, Any]]) -> bytes:
    """A zip from entries {name, data (as stored), size, crc, method, flags}."""
    out, central = io.BytesIO(), []
    for e in entries:
        name = e["name"].encode()
        offset = out.tell()
        fields = (20, e.get("flags", 0), e.get("method", 0), 0, 0, e["crc"], len(e["data"]),
                  e["size"], len(name), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name + e["data"])
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0,
                                   offset) + name)
    start = out.tell()
    for c in central:
        out.write(c)
    size = out.tell() - start
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), size,
                          start, 0))
    return out.getvalue()


def stored_entries(path: Path) -> list[dict[str, Any]]:
    with zipfile.ZipFile(path) as zf:
        return [{"name": i.filename, "data": zf.read(i), "size": i.file_size, "crc": i.CRC}
                for i in zf.infolist()]


def test_raw_zip_helper_round_trips(valid: Path, tmp_path: Path) -> None:
    path = tmp_path / "same.npz"
    path.write_bytes(raw_zip(stored_entries(valid)))
    assert load_checkpoint(make(), path) is True


def zero_bomb(gib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `gib` GiB of zeros (about 2 MB), built from one compressed 16 MiB
    block repeated (a full flush resets the compressor, so each block compresses alike)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(16 << 20)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    assert first == again
    n = gib * 64
    return first * n + comp.flush(zlib.Z_FINISH), n * len(block)


@pytest.fixture(scope="module")
def bomb() -> tuple[bytes, int]:
    return zero_bomb(2)


@pytest.mark.parametrize("declared", ["honest", "lying"])
def test_zip_bomb_is_refused_without_memory(valid: Path, tmp_path: Path, bomb, declared: str) -> None:
    """A 2 MB file whose layer0.W member inflates to 2 GiB: refused from its declared size
    (honest), or read at most up to what a member may need (lying about its size); either way
    loading allocates under 16 MB."""
    data, size = bomb
    entries = stored_entries(valid)
    for e in entries:
        if e["name"] == "layer0.W.npy":
            e.update(data=data, method=zipfile.ZIP_DEFLATED, crc=0,
                     size=size if declared == "honest" else e["size"])
    path = tmp_path / "bomb.npz"
    path.write_bytes(raw_zip(entries))
    assert path.stat().st_size < 4 << 20
    tracemalloc.start()
    try:
        assert_refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"loading the bomb allocated {peak} bytes"


def test_npy_header_claiming_a_huge_array(valid: Path, tmp_path: Path) -> None:
    """A member whose .npy header says (2**28,) float64 (2 GiB) but holds 8 bytes."""
    entries = stored_entries(valid)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (268435456,), }"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n"
    for e in entries:
        if e["name"] == "history.batch_loss.npy":
            e.update(data=raw + bytes(8), size=len(raw) + 8, crc=zlib.crc32(raw + bytes(8)))
    path = tmp_path / "huge_header.npz"
    path.write_bytes(raw_zip(entries))
    tracemalloc.start()
    try:
        assert_refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


ZIP_TAMPER: dict[str, Callable[[list[dict]], None]] = {
    "encrypted flag": lambda es: es[0].update(flags=1),
    "bzip2 method": lambda es: es[0].update(method=zipfile.ZIP_BZIP2),
    "unknown method": lambda es: es[0].update(method=99),
    "doubled member": lambda es: es.append(dict(es[0])),
    "unknown member": lambda es: es.append({**es[0], "name": "payload.bin"}),
    "wrong crc": lambda es: es[0].update(crc=es[0]["crc"] ^ 1),
    "size larger than data": lambda es: es[0].update(size=es[0]["size"] + 10),
    "path traversal name": lambda es: es.append({**es[0], "name": "../../layer0.W.npy"}),
}


@pytest.mark.parametrize("name", sorted(ZIP_TAMPER))
def test_zip_tampering(valid: Path, tmp_path: Path, name: str) -> None:
    entries = stored_entries(valid)
    ZIP_TAMPER[name](entries)
    path = tmp_path / "z.npz"
    path.write_bytes(raw_zip(entries))
    assert_refused(path)


def test_not_regular_files(tmp_path: Path) -> None:
    assert_refused(tmp_path)                                # a folder
    fifo = tmp_path / "pipe.npz"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
        assert_refused(fifo)                                # refused without blocking
    big = tmp_path / "big.npz"
    with big.open("wb") as fh:
        fh.truncate(3 << 30)                                 # sparse: 3 GiB, no disk used
    assert "more than" in str(assert_refused(big))
    (tmp_path / "text.npz").write_text("not a zip")
    assert "not a readable" in str(assert_refused(tmp_path / "text.npz"))


def test_float64_file_into_float32_network_and_back(tmp_path: Path) -> None:
    """Checkpoints of the other float dtype load when the values fit."""
    tr = make("float64")
    tr.step_batch()
    save_checkpoint(tr, tmp_path / "f64.npz")
    other = make("float32")
    assert load_checkpoint(other, tmp_path / "f64.npz") is True
    np.testing.assert_allclose(other.net.P, tr.net.P, rtol=1e-6)


def test_format_1_checkpoints_still_load(valid: Path, tmp_path: Path) -> None:
    """The earlier layout: the history as JSON inside a unicode `meta`."""
    tr = make()
    for _ in tr.train(1):
        pass
    arrays = members(valid)
    meta = meta_of(arrays)
    h = tr.history
    meta.update(format="nnsim-checkpoint-1", epoch=tr.epoch, pos=tr.pos, batch=tr.batch,
                step=tr.step, samples_seen=tr.samples_seen, t=tr.optimizer.t, plan_drawn=False,
                rng=tr.rng.bit_generator.state,
                history={"epochs": [r.as_dict() for r in h.epochs],
                         "batches": [{"epoch": int(e), "batch": int(b), "loss": float(l)}
                                     for e, b, l in zip(h.batch_epoch, h.batch_index, h.batch_loss)]})
    meta.pop("unit_warnings")
    old = {k: v for k, v in arrays.items() if not k.startswith("history.")}
    old["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "v1.npz", **old)
    other = make()
    assert load_checkpoint(other, tmp_path / "v1.npz") is True
    assert other.step == tr.step and other.history.batch_count == tr.step
