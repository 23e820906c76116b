"""MNIST-format IDX files: images (magic 2051) and labels (magic 2049), plain or gzip.

The format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the values as
unsigned bytes, row-major.

    images  [0x00000803 = 2051] [count] [rows] [columns]  then count·rows·columns pixels
    labels  [0x00000801 = 2049] [count]                   then count labels

Files are read through `nnsim.files` (a regular file of at most MAX_IDX_BYTES; never a FIFO or
a device). The header is checked before any value is read: the magic number, the counts against
the sample limit, and the file's size (or, for a gzip file, the decompressed size, read no
further than the header says) against what the header promises. Every problem is a `DataError`
naming the file and what is wrong.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import UserFileError, read_user_file
from .errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
#: The largest IDX file read, compressed or not (MNIST's training images are 47 MB plain).
MAX_IDX_BYTES = 256 << 20
#: The most samples a file may hold (the sample limit of every dataset).
MAX_ITEMS = 200_000
#: The most pixels an image may have (64 × 64).
MAX_PIXELS = 4096
_GZIP = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxHeader:
    magic: int
    dims: tuple[int, ...]      # (count, rows, columns) or (count,)

    @property
    def size(self) -> int:
        """Bytes of values after the header."""
        return int(np.prod(self.dims, dtype=np.int64))

    @property
    def header_bytes(self) -> int:
        return 4 + 4 * len(self.dims)


def resolve(path: str | os.PathLike[str] | None, base_dir: str | Path | None, key: str) -> Path:
    if path is None or str(path).strip() == "":
        raise DataError(f"dataset 'idx' needs {key}: an IDX file, relative to the scenario "
                        "file's folder", f"data.{key}")
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else ".") / p
    return p.resolve()


def _header(p: Path, head: bytes, want: int, key: str) -> IdxHeader:
    what = "images" if want == IMAGES_MAGIC else "labels"
    if len(head) < 4:
        raise DataError(f"IDX file {p} is truncated: it ends before its 4-byte magic number",
                        f"data.{key}")
    magic = struct.unpack(">i", head[:4])[0]
    if magic != want:
        other = {IMAGES_MAGIC: "an images file (magic 2051)",
                 LABELS_MAGIC: "a labels file (magic 2049)"}.get(magic)
        found = f"it is {other}" if other else f"its magic number is {magic}"
        raise DataError(f"IDX file {p} is not an IDX {what} file: {found}; {key} needs "
                        f"magic number {want} (0x{want:08x})", f"data.{key}")
    ndim = 3 if want == IMAGES_MAGIC else 1
    need = 4 + 4 * ndim
    if len(head) < need:
        raise DataError(f"IDX file {p} is truncated: its header needs {need} bytes, the file "
                        f"has {len(head)}", f"data.{key}")
    dims = struct.unpack(">" + "i" * ndim, head[4:need])
    if dims[0] < 1 or dims[0] > MAX_ITEMS:
        raise DataError(f"IDX file {p} says it holds {dims[0]:,} {what}; it must hold 1 to "
                        f"{MAX_ITEMS:,} (the sample limit)", f"data.{key}")
    if ndim == 3 and (min(dims[1:]) < 1 or dims[1] * dims[2] > MAX_PIXELS):
        raise DataError(f"IDX file {p} says its images are {dims[1]}×{dims[2]} pixels; images "
                        f"must have 1 to {MAX_PIXELS:,} pixels", f"data.{key}")
    return IdxHeader(magic, tuple(int(d) for d in dims))


def _gunzip(p: Path, raw: bytes, want: int, key: str) -> tuple[IdxHeader, bytes]:
    """Header and values of a gzip file, decompressing no more than the header promises."""
    dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = dec.decompress(raw, 16)
        hdr = _header(p, head, want, key)
        body = head[hdr.header_bytes:]
        rest = dec.unconsumed_tail
        while len(body) < hdr.size and (rest or not dec.eof):
            chunk = dec.decompress(rest, hdr.size - len(body))
            if not chunk:
                break
            body += chunk
            rest = dec.unconsumed_tail
        extra = dec.decompress(rest, 1) if not dec.eof else b""
    except zlib.error as exc:
        raise DataError(f"IDX file {p} is not a readable gzip file ({exc})", f"data.{key}") from None
    if len(body) < hdr.size:
        raise DataError(f"IDX file {p} is truncated: its header promises {hdr.size:,} bytes of "
                        f"values, it holds {len(body):,} (decompressed)", f"data.{key}")
    if extra:
        raise DataError(f"IDX file {p} holds more data than its header says ({hdr.size:,} "
                        "bytes of values)", f"data.{key}")
    return hdr, body


def read_idx(path: Path, want: int, key: str) -> np.ndarray:
    """The values of one IDX file as uint8: (count, rows, columns) images or (count,) labels."""
    try:
        raw = read_user_file(path, MAX_IDX_BYTES, what="IDX file")
    except UserFileError as exc:
        if exc.reason.startswith("file not found"):
            raise DataError(f"IDX file not found: {path}", f"data.{key}") from None
        raise DataError(f"IDX file {path}: {exc.reason}", f"data.{key}") from None
    if raw[:2] == _GZIP:
        hdr, body = _gunzip(path, raw, want, key)
    else:
        hdr = _header(path, raw[:16], want, key)
        body = raw[hdr.header_bytes:]
        if len(body) != hdr.size:
            how = "truncated" if len(body) < hdr.size else "longer than its header says"
            raise DataError(f"IDX file {path} is {how}: its header promises {hdr.size:,} bytes "
                            f"of values after the {hdr.header_bytes}-byte header, the file has "
                            f"{len(body):,}", f"data.{key}")
    return np.frombuffer(body, dtype=np.uint8, count=hdr.size).reshape(hdr.dims)


def image_shape(path: str | os.PathLike[str] | None, base_dir: str | Path | None,
                key: str = "images") -> tuple[int, int, int] | None:
    """(1, rows, columns) from an images file's header alone, or None when it cannot be read
    (the loader then says why). For the scenario checks, before any data is read."""
    try:
        p = resolve(path, base_dir, key)
        raw = read_user_file(p, MAX_IDX_BYTES, what="IDX file")
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 16) \
            if raw[:2] == _GZIP else raw[:16]
        hdr = _header(p, head, IMAGES_MAGIC, key)
    except (DataError, UserFileError, zlib.error):
        return None
    return 1, hdr.dims[1], hdr.dims[2]


@dataclass
class IdxPair:
    """Images scaled to [0, 1] as (N, rows·columns) float64 and their labels (N,) uint8."""

    x: np.ndarray
    labels: np.ndarray
    shape: tuple[int, int, int]


def read_pair(images: str | None, labels: str | None, base_dir: str | Path | None,
              keys: tuple[str, str] = ("images", "labels")) -> IdxPair:
    """An images file and its labels file; DataError when either is bad or the counts differ."""
    pi, pl = resolve(images, base_dir, keys[0]), resolve(labels, base_dir, keys[1])
    key = (pi, pl, _stamp(pi), _stamp(pl))
    if key in _CACHE:
        return _CACHE[key]
    img = read_idx(pi, IMAGES_MAGIC, keys[0])
    lab = read_idx(pl, LABELS_MAGIC, keys[1])
    if len(img) != len(lab):
        raise DataError(f"{keys[0]} {pi.name} holds {len(img):,} images but {keys[1]} {pl.name} "
                        f"holds {len(lab):,} labels; they must match one to one", f"data.{keys[1]}")
    n, rows, cols = img.shape
    pair = IdxPair(img.reshape(n, rows * cols).astype(np.float64) / 255.0, lab.copy(),
                   (1, rows, cols))
    pair.x.setflags(write=False)
    pair.labels.setflags(write=False)
    if None not in key:
        if len(_CACHE) >= 2:
            _CACHE.clear()
        _CACHE[key] = pair
    return pair


#: Recently read pairs (a scenario check reads them, then the loader): key -> read-only arrays.
_CACHE: dict[tuple, IdxPair] = {}


def _stamp(p: Path) -> tuple | None:
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def write_idx(path: str | os.PathLike[str], values: np.ndarray, compress: bool | None = None) -> None:
    """Write uint8 `values` ((N, rows, columns) images or (N,) labels) as an IDX file (gzip
    when `compress`, or when the name ends in .gz). For tests and for making small data sets."""
    arr = np.ascontiguousarray(values, dtype=np.uint8)
    magic = IMAGES_MAGIC if arr.ndim == 3 else LABELS_MAGIC
    if arr.ndim not in (1, 3):
        raise ValueError(f"IDX values must be (N, rows, columns) or (N,), got shape {arr.shape}")
    data = struct.pack(">" + "i" * (1 + arr.ndim), magic, *arr.shape) + arr.tobytes()
    if compress if compress is not None else str(path).endswith(".gz"):
        import gzip
        data = gzip.compress(data)
    Path(path).write_bytes(data)
