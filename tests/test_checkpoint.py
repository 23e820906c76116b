"""Checkpoints: names, round trip, exact resume, weights-only load, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import Dense, Dropout, Network, Trainer
from nnsim.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def make(rng_seed: int = 0) -> Trainer:
    rng = np.random.default_rng(rng_seed)
    x = rng.normal(0, 1, (45, 3))
    y = rng.integers(0, 3, 45)
    net = Network(3, [Dense(8, "relu"), Dropout(0.2), Dense(3, "linear")], seed=1, dtype="float64")
    return Trainer(net, x, y, loss="sparse_categorical_crossentropy", from_logits=True,
                   optimizer="adam", learning_rate=0.01, batch_size=10, seed=2)


def test_file_layout(tmp_path) -> None:
    tr = make()
    tr.step_batch()
    path = tmp_path / "c.npz"
    save_checkpoint(tr, path)
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files)
        assert data["layer0.W"].shape == (3, 8) and data["layer2.W"].shape == (8, 3)
        np.testing.assert_array_equal(data["layer2.b"], tr.net.dense[1].params["b"])
    assert {"layer0.W", "layer0.b", "layer2.W", "layer2.b", "meta"} <= names
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("batches", [3, 5, 7])  # mid-epoch, exactly at the epoch end, next epoch
def test_exact_resume(tmp_path, batches: int) -> None:
    original = make()
    for _ in range(batches):
        original.step_batch()
    save_checkpoint(original, tmp_path / "c.npz")
    resumed = make()
    assert load_checkpoint(resumed, tmp_path / "c.npz") is True
    for _ in range(6):
        la, _, _ = original.step_batch()
        lb, _, _ = resumed.step_batch()
        assert la == lb
    np.testing.assert_array_equal(original.net.P, resumed.net.P)
    np.testing.assert_array_equal(original.history.batch_loss, resumed.history.batch_loss)
    assert original.history.summary() == resumed.history.summary()
    assert resumed.step == original.step


def test_weights_only_starts_optimizer_fresh(tmp_path) -> None:
    tr = make()
    for _ in range(4):
        tr.step_batch()
    save_checkpoint(tr, tmp_path / "w.npz", weights_only=True)
    other = make()
    assert load_checkpoint(other, tmp_path / "w.npz") is False
    np.testing.assert_array_equal(other.net.P, tr.net.P)
    assert other.optimizer.t == 0 and not other.optimizer.s1.any() and other.step == 0


def test_bad_checkpoints(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(make(), tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(make(), tmp_path / "junk.npz")
    np.savez(tmp_path / "shape.npz", **{"layer0.W": np.zeros((2, 8)), "layer0.b": np.zeros(8),
                                         "layer2.W": np.zeros((8, 3)), "layer2.b": np.zeros(3)})
    with pytest.raises(CheckpointError, match="layer0.W has shape"):
        load_checkpoint(make(), tmp_path / "shape.npz")
