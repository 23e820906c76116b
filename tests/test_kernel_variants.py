"""The layered kernels come in variants by row kinds and size (`cpu_layers.variant`): a network
gets the one holding code for its kinds only, with the two-thread kernels only where a row is
large enough for them to pay; the two-thread and one-thread variants compute the same sums."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import Conv2D, Dense, Flatten, MaxPool2D, Network, Trainer
from nnsim.engine.layers import LSTM
from nnsim.kernels import cpu_layers
from nnsim.kernels.cpu_conv import PARALLEL_MACS


def lenet28() -> Network:
    return Network(784, [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Conv2D(16, 3, activation="relu"),
                         MaxPool2D(2), Flatten(), Dense(10, "softmax")], input_shape=(1, 28, 28))


@pytest.mark.parametrize("make,n,tag", [
    (lenet28, 64, "cnn_threads"),     # conv 1: 64 · 9 · 8·26·26 multiply-adds ≥ PARALLEL_MACS
    (lenet28, 4, "cnn"),              # the same rows, too small a mini-batch for two threads
    (lambda: Network(64, [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(10)],
                     input_shape=(1, 8, 8)), 64, "cnn"),                  # a lesson's 8×8 digits
    (lambda: Network(64, [MaxPool2D(2), Flatten(), Dense(2)], input_shape=(1, 8, 8)), 32, "cnn"),
    (lambda: Network(6, [LSTM(4), Dense(1)], input_shape=(3, 2)), 32, "rnn"),
    (lambda: Network(16, [Flatten(), Dense(2)], input_shape=(1, 4, 4)), 32, "plain"),
])
def test_each_network_gets_the_variant_for_its_kinds_and_size(make, n, tag) -> None:
    net = make()
    assert net.layered
    assert cpu_layers.kernels_for(net.layi, n).tag == tag


def test_threads_pay_is_the_multiply_add_threshold() -> None:
    layi = lenet28().layi
    macs_per_sample = 72 * 16 * 11 * 11        # conv 2 (conv 1 has 9 · 8·26·26 only): fan-in
                                               # 8·3·3, 16 maps of 11×11
    n = -(-PARALLEL_MACS // macs_per_sample)   # the smallest mini-batch that reaches it
    assert cpu_layers.threads_pay(layi, n) and not cpu_layers.threads_pay(layi, n - 1)


def test_two_threads_give_the_one_thread_sums(monkeypatch) -> None:
    """Same weights after three mini-batches of 64 and the same predictions, bit for bit: the
    halves of each mini-batch and the order their dL/dW are added in do not depend on threads."""
    rng = np.random.default_rng(0)
    x = rng.random((192, 784)).astype(np.float32)
    y = rng.integers(0, 10, 192)
    out = {}
    for threads in (True, False):
        monkeypatch.setattr(cpu_layers, "kernels_for",
                            lambda layi, n, t=threads: cpu_layers.variant(True, False, t))
        tr = Trainer(lenet28(), x, y, x[:70], y[:70], loss="sparse_categorical_crossentropy",
                     batch_size=64, learning_rate=0.1)
        losses, _ = tr.play(3)
        out[threads] = (np.asarray(losses), tr.net.P.copy(), tr.net.predict(x[:70]))
    assert out[True][0].shape == (3,)
    for a, b in zip(out[True], out[False]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(out[True][1], lenet28().P)   # training moved the weights


@pytest.mark.parametrize("tag", ["cnn", "cnn_threads", "rnn", "plain"])
def test_the_app_warms_the_variant_a_lesson_runs(tag) -> None:
    """The app's background warm-up (tui/warmup.py, headless) has a small network for each
    variant, which really runs that variant."""
    from nnsim.tui import warmup

    net, _, batch = warmup._layered_net(np.dtype("float32"), tag)
    assert warmup.layered_tags(net, batch) == [tag]
    assert [label.split()[-1] for label, _ in warmup._layered_pieces(np.dtype("float32"), tag)] == [
        "prediction", "loop", "stepper"]


def test_warming_a_variant_compiles_or_loads_it() -> None:
    from nnsim.tui.warmup import Warmup

    steps = Warmup().run_steps("float32 rnn")
    assert [s.label for s in steps] == ["recurrent prediction", "recurrent training loop",
                                        "recurrent stepper"]
    assert any(k.tag == "rnn" and k.train.signatures for k in cpu_layers.compiled_variants())


def test_the_dense_warm_up_waits_while_a_lessons_layered_one_runs(monkeypatch) -> None:
    """Numba compiles one function at a time: the app's dense warm-up (started at launch)
    pauses between its pieces while an opened lesson's layered kernels compile."""
    import threading

    from nnsim.tui import warmup

    release, order = threading.Event(), []
    monkeypatch.setattr(warmup, "_layered_pieces",
                        lambda dtype, tag: [("layered", lambda: (release.wait(10), order.append("layered")))])
    monkeypatch.setattr(warmup, "_pieces", lambda dtype: [("a", lambda: order.append("a")),
                                                          ("b", lambda: order.append("b"))])
    w = warmup.Warmup()
    w.start("float32 cnn")
    w.start("float32")
    assert not w.wait("float32", timeout=0.3)     # held back by the layered warm-up
    release.set()
    assert w.wait("float32", timeout=10) and w.wait("float32 cnn", timeout=10)
    assert order == ["layered", "a", "b"]
