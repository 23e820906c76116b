"""Whole training runs on the cuda backend (simulator) against the cpu backend.

Same seed, same data order, same dropout uniforms: per-batch losses and final weights agree
within 1e-5 relative in float32 and 1e-12 in float64; the dropout masks, the batch order and
the counters agree exactly. Traces, the stepper, gradients, evaluation, checkpoints' state and
divergence behave as on the cpu.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from nnsim.engine import Dense, DivergenceError, Dropout, Network, Trainer
from nnsim.kernels import cuda
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session

RTOL = {"float32": 1e-5, "float64": 1e-12}


def _close(got, want, dtype):
    want = np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-30)
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def _weights_close(a: Network, b: Network, dtype: str) -> None:
    wa, wb = a.get_weights(), b.get_weights()
    assert wa.keys() == wb.keys()
    for key in wa:
        _close(wb[key], wa[key], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_lesson_trains_the_same_on_both_backends(dtype):
    """06-two-circles (2-4-2-1 tanh, mse, sgd): five mini-batches on each backend."""
    scenario = load_scenario("scenarios/06-two-circles.toml")
    scenario = scenario.model_copy(update={"training": scenario.training.model_copy(
        update={"dtype": dtype})})
    cpu_tr = build_session(scenario, backend="cpu").trainer
    gpu_tr = build_session(scenario, backend="cuda").trainer
    assert gpu_tr.backend_name == "cuda"
    losses_cpu, _ = cpu_tr.play(5)
    losses_gpu, _ = gpu_tr.play(5)
    assert len(losses_gpu) == 5
    _close(losses_gpu, losses_cpu, dtype)
    _weights_close(cpu_tr.net, gpu_tr.net, dtype)
    assert (gpu_tr.step, gpu_tr.optimizer.t) == (cpu_tr.step, cpu_tr.optimizer.t) == (5, 5)


def _pair(dtype: str, optimizer: str = "adam", lr: float = 0.05, **kw) -> tuple[Trainer, Trainer]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(22, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(float)

    def one(backend: str) -> Trainer:
        net = Network(2, [Dense(4, "tanh"), Dropout(0.25), Dense(3, "elu"),
                          Dense(1, "sigmoid")], dtype=dtype, seed=3)
        return Trainer(net, x[:16], y[:16], x[16:], y[16:], loss="binary_crossentropy",
                       optimizer=optimizer, learning_rate=lr, batch_size=6, seed=1,
                       regularization="l1", regularization_rate=0.001, backend=backend, **kw)
    return one("cpu"), one("cuda")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_epochs_with_dropout_evaluation_and_traces(dtype):
    """Two epochs (partial last batch, dropout, l1, adam): losses, epoch records (evaluated on
    the device), weights; then a traced step and a walked step match number for number."""
    a, b = _pair(dtype)
    for _ in range(2):
        ra, rb = a.step_epoch(), b.step_epoch()
        for field in ("train_loss", "test_loss", "train_metric", "test_metric", "penalty"):
            _close(getattr(rb, field), getattr(ra, field), dtype)
        _close(rb.grad_norms, ra.grad_norms, dtype)
        _close(rb.weight_norms, ra.weight_norms, dtype)
    _close(b.history.batch_loss, a.history.batch_loss, dtype)
    _weights_close(a.net, b.net, dtype)

    _, ta, _ = a.step_batch(trace=True)
    _, tb, _ = b.step_batch(trace=True)
    np.testing.assert_array_equal(tb.indices, ta.indices)
    for la, lb in zip(ta.layers, tb.layers):
        for name in ("a_in", "z", "a", "W", "b", "dA", "dZ", "dW", "db", "update_W", "update_b"):
            _close(getattr(lb, name), getattr(la, name), dtype)
    phases_a = [p.label for p in a.walk_step()]
    phases_b = [p.label for p in b.walk_step()]
    assert phases_a == phases_b
    _weights_close(a.net, b.net, dtype)
    ga, gb = a.compute_gradients()[1], b.compute_gradients()[1]
    _close(gb, ga, dtype)
    sa, sb = a.state_dict(), b.state_dict()
    _close(sb["s1"], sa["s1"], dtype)
    _close(sb["s2"], sa["s2"], dtype)
    assert (sb["t"], sb["step"], sb["epoch"], sb["pos"]) == (sa["t"], sa["step"], sa["epoch"], sa["pos"])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop"])
def test_every_optimizer_trains_the_same(optimizer):
    a, b = _pair("float32", optimizer=optimizer, lr=0.1)
    la, _ = a.play(3)
    lb, _ = b.play(3)
    _close(lb, la, "float32")
    _weights_close(a.net, b.net, "float32")


def test_weights_stay_on_the_device_until_read():
    """Training moves the device's weights only; reading them (get_weights, sync_to_host) copies
    them back once; weights set on the host are what the next step trains."""
    a, b = _pair("float32")
    start = b.net.P.copy()
    b.play(2)
    np.testing.assert_array_equal(b.net.P, start)          # the host copy is not touched
    moved = b.net.get_weights()                            # ... until someone reads it
    assert not np.array_equal(b.net.P, start)
    assert b.net.device_copy.dirty == {"S1", "S2"}
    b.sync_to_host()
    assert not b.net.device_copy.dirty
    a.play(2)
    for key, value in a.net.get_weights().items():
        _close(moved[key], value, "float32")
    fresh = {k: np.full_like(v, 0.01) for k, v in moved.items()}
    a.net.set_weights(fresh)
    b.net.set_weights(fresh)
    _close(b.play(1)[0], a.play(1)[0], "float32")


@pytest.mark.filterwarnings("ignore:overflow encountered")   # the simulator's NumPy scalars
def test_divergence_is_found_at_the_same_step():
    """lr 1000 on a regression: the same step, layer and quantity, and the failing update is
    not applied (the device's weights equal the cpu's)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (24, 2))
    y = x @ np.array([[3.0], [-2.0]]) * 50
    errors, nets = [], []
    for backend in ("cpu", "cuda"):
        net = Network(2, [Dense(4, "relu"), Dense(1, "linear")], seed=0)
        tr = Trainer(net, x, y, loss="mse", optimizer="sgd", learning_rate=1000.0, batch_size=6,
                     shuffle=False, backend=backend)
        with pytest.raises(DivergenceError) as info:
            for _ in range(40):
                tr.step_batch()
        errors.append(info.value)
        nets.append(net)
    ea, eb = errors
    assert (eb.step, eb.layer, eb.quantity) == (ea.step, ea.layer, ea.quantity)
    np.testing.assert_array_equal(np.isfinite(nets[1].get_weights()["layer0.W"]),
                                  np.isfinite(nets[0].get_weights()["layer0.W"]))


def test_every_launch_uses_the_compiled_signatures(monkeypatch):
    """The argument types of every launch (a dense run with dropout, prediction and the
    stepper's update; CNN runs with a conv row above another row, max and average pooling;
    a SimpleRNN → LSTM run with clipping)
    are exactly `cuda.signatures`, which tests/test_cuda_ptx.py compiles to PTX; and every
    kernel of the table is launched."""
    from numba.cuda.simulator import kernel as sim

    from nnsim.engine import AvgPool2D, Conv2D, Flatten, MaxPool2D
    from nnsim.engine.layers import LSTM, SimpleRNN
    seen: dict[str, set] = {}
    call = sim.FakeCUDAKernel.__call__

    def record(self, *args):
        if not self._device:
            seen.setdefault(self.fn.__name__, set()).add(tuple(numba.typeof(a) for a in args))
        return call(self, *args)

    monkeypatch.setattr(sim.FakeCUDAKernel, "__call__", record)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 16)), rng.integers(0, 3, 5)
    for dtype in ("float32", "float64"):
        seen.clear()
        _, b = _pair(dtype)
        b.play(3)
        b.predict(np.zeros((3, 2)))
        for _ in b.walk_step():
            pass
        for layers in ([MaxPool2D(1), Conv2D(2, kernel_size=2), Flatten(), Dense(3, "softmax")],
                       [Conv2D(1, kernel_size=3, padding="same"), AvgPool2D(2), Flatten(),
                        Dense(3, "softmax")]):
            net = Network(16, layers, dtype=dtype, input_shape=(1, 4, 4))
            tr = Trainer(net, x, y, loss="sparse_categorical_crossentropy", batch_size=5,
                         backend="cuda")
            tr.play(1)
        # recurrent rows (every step's h into an LSTM, its last step's h out) and clipping
        net = Network(16, [SimpleRNN(2, return_sequences=True), LSTM(2), Dense(3, "softmax")],
                      dtype=dtype, input_shape=(4, 4))
        Trainer(net, x, y, loss="sparse_categorical_crossentropy", batch_size=5, backend="cuda",
                clip_norm=0.01).play(1)
        table = cuda.signatures(np.dtype(dtype))
        for name, sigs in seen.items():
            assert sigs == {table[name]}, name
        assert set(seen) == set(table)


def test_the_launches_run_several_blocks_with_a_partial_last_one():
    from nnsim.kernels import cuda_dense
    assert (cuda_dense.TPB, cuda_dense.TILE) == (4, 2)
    assert cuda_dense.blocks(6) == 2 and 6 % cuda_dense.TPB
    assert cuda_dense.tiles(5, 3) == ((2, 3), (2, 2))


def test_the_app_shows_the_backend_and_the_device_weights():
    """A lesson asking for cuda: the status bar says so, and what the screen shows (the
    timeline's snapshot of P) is the device's weights after the chunk."""
    from nnsim.tui.controller import Lab
    from nnsim.tui.screens.panels import status_text

    scenario = load_scenario("scenarios/06-two-circles.toml")
    scenario = scenario.model_copy(update={"training": scenario.training.model_copy(
        update={"backend": "cuda"})})
    lab = Lab(build_session(scenario))
    frame = lab.play_chunk(max_batches=2)
    assert "cuda" in status_text(lab, frame, False).plain
    net = lab.trainer.net
    np.testing.assert_array_equal(lab.timeline[len(lab.timeline) - 1].P, net.P)
    ref = build_session(scenario, backend="cpu").trainer
    ref.play(2)
    _weights_close(ref.net, net, "float32")


def test_a_checkpoint_resumes_on_the_device(tmp_path):
    """Save after an epoch (3 batches) on cuda, load into a fresh cuda trainer, train 2 more:
    the same as training straight on cpu (the saved state comes back from the device, the loaded one goes
    over at the next call)."""
    from nnsim.engine.checkpoint import load_checkpoint, save_checkpoint

    a, b = _pair("float64")
    b.play(3)
    save_checkpoint(b, tmp_path / "c.npz")
    _, c = _pair("float64")
    load_checkpoint(c, tmp_path / "c.npz")
    c.play(2)
    a.play(3)
    a.play(2)
    _weights_close(a.net, c.net, "float64")
    _close(c.history.batch_loss, a.history.batch_loss, "float64")
