"""The bounded history (issue 9): the thinning rule, long runs stay within the caps, readers
and checkpoints keep working with a thinned history."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nnsim.engine import Dense, Network, Trainer
from nnsim.engine import history as history_mod
from nnsim.engine.checkpoint import load_checkpoint, save_checkpoint
from nnsim.engine.history import EpochRecord, History, Thinned


def _feed(chunks: list[int], head: int = 10, thinned: int = 20, recent: int = 30) -> Thinned:
    t = Thinned({"v": np.float64}, head, thinned, recent)
    start = 0
    for c in chunks:
        seq = np.arange(start, start + c)
        t.extend(seq, v=seq * 0.5)
        start += c
    return t


@pytest.mark.parametrize("total", [5, 45, 61, 1000, 12_345])
def test_thinning_rule(total: int) -> None:
    t = _feed([total])
    seq = t.column("seq")
    assert t.total == total and np.all(np.diff(seq) > 0)
    np.testing.assert_array_equal(t.column("v"), seq * 0.5)       # values travel with rows
    assert set(range(min(total, 10))) <= set(seq.tolist())          # the head is kept
    assert set(range(max(0, total - 30), total)) <= set(seq.tolist())  # the recent window too
    middle = seq[(seq >= 10) & (seq < total - 30 - t.capacity)]
    assert np.all(middle % t.stride == 0)                          # evenly thinned
    assert len(t) <= t.capacity == 10 + 20 + 30 + 7
    if total > 2 * t.capacity:
        assert t.thinned_out and 10 <= t.n_thin <= 20


def test_chunking_does_not_change_what_is_kept() -> None:
    one = _feed([1] * 3000)
    many = _feed([7] * 428 + [4])
    block = _feed([3000])
    for other in (many, block):
        np.testing.assert_array_equal(one.column("seq"), other.column("seq"))
        assert (one.stride, one.total, one.settled) == (other.stride, other.total, other.settled)


def _record(epoch: int) -> EpochRecord:
    return EpochRecord(epoch, 0.5, None, 0.9, None, "accuracy", 0.0, 0.1, [1.0], [2.0], 0.001, 3)


def test_history_readers_with_a_small_policy() -> None:
    h = History(epoch_policy=(3, 4, 5), batch_policy=(2, 4, 6))
    for e in range(1, 101):
        h.add_epoch(_record(e))
        for b in range(1, 4):
            h.add_batch(3 * (e - 1) + b, e, b, float(e))
    assert h.epoch_count == 100 and h.batch_count == 300 and h.decimated
    assert h.last_epoch.epoch == 100 and h.last_batch_loss == 100.0
    kept = [r.epoch for r in h.epochs]
    assert kept[:3] == [1, 2, 3] and kept[-5:] == [96, 97, 98, 99, 100] and len(kept) <= 3 + 4 + 5 + 1
    steps = h.batch_step
    assert steps[:2].tolist() == [1, 2] and steps[-6:].tolist() == list(range(295, 301))
    rows = h.batches()
    assert rows[-1] == {"step": 300, "epoch": 100, "batch": 3, "loss": 100.0}
    s = h.summary()
    assert s == {"decimated": True, "epochs_kept": len(kept), "epochs_total": 100,
                 "batches_kept": len(steps), "batches_total": 300}


def _tiny_trainer(seed: int = 0, n: int = 8) -> Trainer:
    """Mini-batches of 4 on `n` samples (8: two per epoch, many epochs for few batches)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    net = Network(2, [Dense(3, "tanh"), Dense(1, "sigmoid")], seed=seed)
    return Trainer(net, x, y, x, y, loss="binary_crossentropy", optimizer="sgd",
                   learning_rate=0.1, batch_size=4, seed=seed)


def test_200k_batches_keep_history_memory_within_the_caps(monkeypatch) -> None:
    """200,000 mini-batches (2,000 epochs of 100): everything the trainer allocates while
    playing (tracemalloc, from before the first batch) stays under a bound computed from the
    caps: 24 bytes per mini-batch row, under 1 KB per epoch record, 1 MB for the rest. The
    epoch cap is lowered to 1,125 records so that 2,000 epochs exceed it."""
    monkeypatch.setattr(history_mod, "EPOCH_POLICY", (100, 400, 500))
    tr = _tiny_trainer(n=400)
    e_cap = sum(history_mod.EPOCH_POLICY) + history_mod.EPOCH_POLICY[2] // 4
    b_cap = sum(history_mod.BATCH_POLICY) + history_mod.BATCH_POLICY[2] // 4
    bound = b_cap * 24 + e_cap * 1024 + (1 << 20)
    tr.play(1)                                  # kernels loaded outside the measurement
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        while tr.step < 200_000:
            tr.play(1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    h = tr.history
    s = h.summary()
    assert h.batch_count == tr.step >= 200_000 and h.epoch_count == tr.epoch >= 2000
    assert s["decimated"] and s["epochs_kept"] <= e_cap and s["batches_kept"] <= b_cap
    assert peak - base <= bound, f"playing allocated up to {peak - base} bytes (bound {bound})"
    assert h.nbytes() <= bound
    assert [r.epoch for r in h.epochs][:3] == [1, 2, 3] and h.epochs[-1].epoch == tr.epoch


def test_exact_resume_with_a_thinned_history(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(history_mod, "EPOCH_POLICY", (2, 4, 3))
    monkeypatch.setattr(history_mod, "BATCH_POLICY", (2, 6, 5))
    a = _tiny_trainer()
    for _ in a.train(40):
        pass
    a.step_batch()
    assert a.history.decimated
    save_checkpoint(a, tmp_path / "c.npz")
    b = _tiny_trainer()
    assert load_checkpoint(b, tmp_path / "c.npz")
    for _ in range(30):
        assert a.step_batch()[0] == b.step_batch()[0]
    for h1, h2 in ((a.history, b.history),):
        assert h1.summary() == h2.summary()
        np.testing.assert_array_equal(h1.batch_step, h2.batch_step)
        np.testing.assert_array_equal(h1.batch_loss, h2.batch_loss)
        same = lambda r: {k: v for k, v in r.as_dict().items() if k != "seconds"}  # noqa: E731
        assert [same(r) for r in h1.epochs] == [same(r) for r in h2.epochs]


def test_within_epochs_goals_use_epoch_numbers() -> None:
    """With a thinned history the goal window is chosen by epoch number, not list position."""
    from nnsim.scenarios.goals import evaluate_goals
    from nnsim.scenarios.schema import Goals

    h = History(epoch_policy=(2, 4, 3))
    for e in range(1, 60):
        rec = _record(e)
        rec.test_loss = 0.01 if e == 30 else 1.0
        h.add_epoch(rec)
    kept = {r.epoch for r in h.epochs}
    goals = Goals(test_loss_below=0.1, within_epochs=5)
    assert not evaluate_goals(goals, h.epochs, False)[0].met
    assert max(r.epoch for r in h.epochs if r.epoch <= 5) <= 5 and 59 in kept


def test_the_apps_step_ring_is_bounded_in_bytes_too() -> None:
    from nnsim.tui.timeline import Timeline

    ring = Timeline(capacity=1000, max_bytes=1 << 20)
    P = np.zeros(20_000, dtype=np.float32)           # 80 KB of weights + 80 KB of gradients
    for step in range(1, 101):
        ring.add(step, 0, step, 1, 0.5, P, P)
    assert ring.nbytes <= 1 << 20 and len(ring) == 6 and ring[-1].step == 100
    small = Timeline(capacity=5)
    for step in range(1, 11):
        small.add(step, 0, step, 1, 0.5, P[:4], P[:4])
    assert [s.step for s in small] == [6, 7, 8, 9, 10]
