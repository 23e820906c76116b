"""Image data: input shapes (digits, edges), a CSV of pixel columns with [data] shape, and the
MNIST-format IDX loader on small files written here (plain and gzip, and broken ones)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from nnsim.data import DataError, load_dataset
from nnsim.data.idx import IMAGES_MAGIC, LABELS_MAGIC, image_shape, write_idx


def test_digits_and_edges_declare_their_shape() -> None:
    d = load_dataset("digits")
    assert d.input_shape == (1, 8, 8) and d.image_shape == (8, 8) and d.input_dim == 64
    e = load_dataset("edges", seed=3)
    assert e.input_shape == (1, 6, 6) and e.x_train.shape[1] == 36 and e.n_classes == 2
    for x, y in zip(e.x_train, e.y_train):
        img = x.reshape(6, 6)
        # a vertical edge changes along each row only, a horizontal one along each column only
        assert np.ptp(img, axis=0).max() == (0.0 if y == 0 else 1.0)
        assert np.ptp(img, axis=1).max() == (1.0 if y == 0 else 0.0)


def _pixels_csv(path: Path, n: int = 12, shape: tuple[int, int, int] = (2, 2, 3)) -> np.ndarray:
    rng = np.random.default_rng(0)
    d = int(np.prod(shape))
    x = rng.integers(0, 9, (n, d)).astype(float)
    y = np.arange(n) % 2
    header = [f"p{i}" for i in range(d)] + ["label"]
    rows = [",".join(header)] + [",".join(f"{v:g}" for v in list(r) + [t]) for r, t in zip(x, y)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return x


def test_csv_pixel_columns_with_a_shape(tmp_path: Path) -> None:
    x = _pixels_csv(tmp_path / "px.csv")
    ds = load_dataset("csv", path="px.csv", target="label", base_dir=tmp_path, shape=[2, 2, 3],
                      test_fraction=0.0)
    assert ds.input_shape == (2, 2, 3) and ds.input_kind == "image"
    assert sorted(map(tuple, ds.x_train)) == sorted(map(tuple, x))   # row-major, unchanged
    with pytest.raises(DataError, match=r"shape \[2, 3, 3\] holds 18 values, but px.csv has 12") as info:
        load_dataset("csv", path="px.csv", target="label", base_dir=tmp_path, shape=[2, 3, 3])
    assert info.value.field == "data.shape"


def _mnist_like(tmp_path: Path, n: int = 40, rows: int = 5, cols: int = 4, gz: bool = False,
                classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (n, rows, cols)).astype(np.uint8)
    lab = (np.arange(n) % classes).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(tmp_path / f"img{suffix}", img)
    write_idx(tmp_path / f"lab{suffix}", lab)
    return img, lab


@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_and_labels(tmp_path: Path, gz: bool) -> None:
    img, lab = _mnist_like(tmp_path, gz=gz)
    s = ".gz" if gz else ""
    ds = load_dataset("idx", images=f"img{s}", labels=f"lab{s}", base_dir=tmp_path,
                      test_fraction=0.25, seed=2)
    assert ds.input_shape == (1, 5, 4) and ds.input_dim == 20 and ds.n_classes == 3
    assert ds.n_train + ds.n_test == 40 and ds.n_test == 3 * 3   # stratified: 3 of 13/14 per class
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    everything = np.concatenate([ds.x_train, ds.x_test]) * 255
    assert sorted(map(tuple, np.round(everything))) == sorted(map(tuple, img.reshape(40, 20).astype(float)))
    assert image_shape(f"img{s}", tmp_path) == (1, 5, 4)


def test_idx_test_pair(tmp_path: Path) -> None:
    _mnist_like(tmp_path)
    rng = np.random.default_rng(2)
    write_idx(tmp_path / "timg", rng.integers(0, 256, (7, 5, 4)))
    write_idx(tmp_path / "tlab", np.arange(7) % 3)
    ds = load_dataset("idx", images="img", labels="lab", test_images="timg", test_labels="tlab",
                      base_dir=tmp_path)
    assert ds.n_train == 40 and ds.n_test == 7
    with pytest.raises(DataError, match="test_images and test_labels together"):
        load_dataset("idx", images="img", labels="lab", test_images="timg", base_dir=tmp_path)


def _raw(path: Path, magic: int, dims: tuple[int, ...], body: bytes) -> None:
    path.write_bytes(struct.pack(">" + "i" * (1 + len(dims)), magic, *dims) + body)


@pytest.mark.parametrize("case,words,field", [
    ("missing", ["IDX file not found", "nothere"], "data.images"),
    ("labels as images", ["not an IDX images file", "it is a labels file (magic 2049)"], "data.images"),
    ("bad magic", ["magic number is 1234", "2051"], "data.images"),
    ("truncated", ["truncated", "promises 800 bytes", "has 799"], "data.images"),
    ("too long", ["longer than its header says"], "data.images"),
    ("short header", ["truncated", "header needs 16 bytes"], "data.images"),
    ("too many", ["says it holds 300,000 images", "200,000"], "data.images"),
    ("count mismatch", ["holds 40 images but labels", "holds 39 labels"], "data.labels"),
    ("gz truncated", ["truncated", "decompressed"], "data.images"),
    ("gz garbage", ["not a readable gzip file"], "data.images"),
    ("one class", ["single class"], "data.labels"),
])
def test_idx_errors_are_clear(tmp_path: Path, case: str, words: list[str], field: str) -> None:
    img, lab = _mnist_like(tmp_path)
    images, labels = "img", "lab"
    body = img.tobytes()
    if case == "missing":
        images = "nothere"
    elif case == "labels as images":
        images = "lab"
    elif case == "bad magic":
        _raw(tmp_path / "img", 1234, (40, 5, 4), body)
    elif case == "truncated":
        _raw(tmp_path / "img", IMAGES_MAGIC, (40, 5, 4), body[:-1])
    elif case == "too long":
        _raw(tmp_path / "img", IMAGES_MAGIC, (40, 5, 4), body + b"\0")
    elif case == "short header":
        (tmp_path / "img").write_bytes(struct.pack(">ii", IMAGES_MAGIC, 40))
    elif case == "too many":
        _raw(tmp_path / "img", IMAGES_MAGIC, (300_000, 5, 4), body)
    elif case == "count mismatch":
        _raw(tmp_path / "lab", LABELS_MAGIC, (39,), lab[:39].tobytes())
    elif case == "gz truncated":
        data = gzip.compress(struct.pack(">iiii", IMAGES_MAGIC, 40, 5, 4) + body[:100])
        (tmp_path / "img").write_bytes(data)
    elif case == "gz garbage":
        (tmp_path / "img").write_bytes(b"\x1f\x8b" + b"not gzip at all" * 4)
    elif case == "one class":
        _raw(tmp_path / "lab", LABELS_MAGIC, (40,), bytes(40))
    with pytest.raises(DataError) as info:
        load_dataset("idx", images=images, labels=labels, base_dir=tmp_path)
    for w in words:
        assert w in str(info.value), str(info.value)
    assert info.value.field == field


def test_idx_refuses_a_fifo(tmp_path: Path) -> None:
    import os
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    _mnist_like(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(DataError, match="FIFO"):
        load_dataset("idx", images="pipe", labels="lab", base_dir=tmp_path)
