"""The facts the convolution lessons (45–47) state, checked on their own settings.
(tests/test_lessons.py trains every lesson to its goals.)"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nnsim.engine import Conv2D, Dense, Flatten, Network
from nnsim.kernels import reference
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session

LESSONS = Path(__file__).resolve().parents[1] / "scenarios"


def lesson(stem: str):
    return load_scenario(LESSONS / f"{stem}.toml")


def test_lenet_layers_and_parameter_counts() -> None:
    s = lesson("45-convolutional-network-lenet")
    net = build_session(s).network
    rows = net.summary()
    assert [(r.type, r.output_shape, r.params) for r in rows] == [
        ("Conv2D", "(None, 8, 8, 8)", 80), ("MaxPool2D", "(None, 8, 4, 4)", 0),
        ("Conv2D", "(None, 16, 4, 4)", 1168), ("MaxPool2D", "(None, 16, 2, 2)", 0),
        ("Flatten", "(None, 64)", 0), ("Dense", "(None, 10)", 650)]
    assert net.n_params == 1898
    assert build_session(lesson("29-digits")).network.n_params == 9610
    tr = build_session(s).trainer
    first, _, _ = tr.step_batch()
    assert 2.5 < first < 3.5 and first > math.log(10)   # "about 3 (above ln 10)"
    records = list(tr.train(s.training.epochs))
    rec = records[0]
    assert rec.grad_norms[1] == rec.grad_norms[3] == rec.grad_norms[4] == 0.0   # pool, flatten
    assert min(rec.grad_norms[i] for i in (0, 2, 5)) > 0
    assert records[-1].train_loss < 0.05 and records[-1].test_metric >= 0.97


def test_edge_kernel_arithmetic_and_training() -> None:
    s = lesson("46-one-convolution-edge-detector")
    session = build_session(s)
    net, ds, tr = session.network, session.dataset, session.trainer
    np.testing.assert_array_equal(net.get_weights()["layer0.W"][0, 0], [[-1, 0, 1]] * 3)
    ps = reference.forward(ds.x_train.astype(np.float64), net.P.astype(np.float64), net.layi,
                           net.layf64)
    maps = ps.z[1].reshape(-1, 4, 4)
    for fmap, y in zip(maps, ds.y_train):   # "each within a few tenths, because of the noise"
        if y == 0:   # a vertical edge: one or two columns of 3, zeros elsewhere
            cols = np.flatnonzero(fmap.mean(axis=0) > 1.5)
            assert 1 <= len(cols) <= 2 and np.all(np.abs(fmap[:, cols] - 3.0) < 0.8)
            assert np.all(np.abs(np.delete(fmap, cols, axis=1)) < 0.8)
        else:        # a horizontal edge: all zeros
            assert np.all(np.abs(fmap) < 0.8)
    records = list(tr.train(s.training.epochs))
    assert records[0].test_metric == 1.0
    W = net.get_weights()["layer0.W"][0, 0]
    assert np.all(W[:, 0] < 0) and np.all(W[:, 2] > 0)


def test_pooling_lesson_routes_each_gradient_to_the_winner() -> None:
    s = lesson("47-pooling-max-and-average")
    session = build_session(s)
    net = session.network
    assert [r.output_shape for r in net.summary()[:3]] == ["(None, 6, 8, 8)", "(None, 6, 4, 4)",
                                                          "(None, 96)"]
    assert net.summary()[3].params == 970
    no_pool = Network(64, [Conv2D(6, 3, padding="same"), Flatten(), Dense(10)], input_shape=(1, 8, 8))
    assert no_pool.summary()[2].params == 3850
    _, trace, _ = session.trainer.step_batch(trace=True)
    conv, pool = trace.layers[0], trace.layers[1]
    n = len(trace.indices)
    a = conv.a.reshape(n, 6, 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, 6, 4, 4, 4)
    # the layer below's dL/da: per window, the pool's dL/dz at the winner (first of equal
    # values, row by row) and 0 at the three others
    da = conv.dA.reshape(n, 6, 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, 6, 4, 4, 4)
    won = a.argmax(axis=-1)
    expected = np.zeros_like(da)
    np.put_along_axis(expected, won[..., None], pool.dZ.reshape(n, 6, 4, 4)[..., None], axis=-1)
    np.testing.assert_array_equal(da, expected)
    # windows whose four inputs are equal (relu(0.01) on the background, or 0): the first won
    ties = np.all(a == a[..., :1], axis=-1)
    assert np.count_nonzero(ties) > 0 and np.all(won[ties] == 0)
    assert np.any(a[ties][:, 0] == np.float32(0.01))
