"""Sequence data sets, CSV sequences, targets = inputs, and the scenario keys of recurrent
networks (layer types, steps, pattern, clip_norm) through load, check and build."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.data import DataError, load_dataset
from nnsim.data.sequences import SINE_PERIOD
from nnsim.scenarios import ScenarioError
from nnsim.scenarios.build import build_session
from nnsim.scenarios.loader import loads_scenario
from nnsim.scenarios.writer import dump_scenario


def test_sine_wave_patterns():
    w = 2 * np.pi / SINE_PERIOD
    ds = load_dataset("sine_wave", steps=10, samples=40, seed=3)
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    assert ds.input_shape == (10, 1) and ds.input_kind == "sequence" and y.shape == (40, 1)
    phase = np.arctan2(x[:, 0], (x[:, 1] - x[:, 0] * np.cos(w)) / np.sin(w))  # from two steps
    np.testing.assert_allclose(y[:, 0], np.sin(phase + 10 * w), atol=1e-9)
    m2m = load_dataset("sine_wave", steps=10, samples=40, seed=3, pattern="many_to_many")
    assert m2m.y_train.shape == (20, 10) and m2m.target_shape == (10,)
    np.testing.assert_allclose(m2m.y_train[:, :-1], m2m.x_train[:, 1:], atol=1e-12)  # next value
    o2m = load_dataset("sine_wave", steps=12, samples=40, seed=3, pattern="one_to_many")
    assert np.all(o2m.x_train[:, 1:] == 0)                     # only the seed value at step 0
    np.testing.assert_allclose(o2m.y_train[:, 0], o2m.x_train[:, 0], atol=1e-12)
    phase = np.arcsin(o2m.x_train[:, 0])                       # the rising half: one wave per seed
    np.testing.assert_allclose(o2m.y_train, np.sin(phase[:, None] + w * np.arange(12)), atol=1e-9)
    noisy = load_dataset("sine_wave", steps=10, samples=40, seed=3, noise=0.1)
    np.testing.assert_array_equal(noisy.y_train, ds.y_train)   # noise on the inputs only
    assert not np.array_equal(noisy.x_train, ds.x_train)


def test_first_symbol_and_adding():
    ds = load_dataset("first_symbol", steps=7, classes=3, samples=60, seed=1)
    assert ds.task == "multiclass" and ds.n_classes == 3 and ds.input_shape == (7, 3)
    seq = ds.x_train.reshape(-1, 7, 3)
    assert np.all(seq.sum(axis=2) == 1)                         # one-hot at every step
    np.testing.assert_array_equal(seq[:, 0].argmax(axis=1), ds.y_train)
    assert load_dataset("first_symbol").task == "binary"
    add = load_dataset("adding", steps=9, samples=50, seed=2)
    seq = add.x_train.reshape(-1, 9, 2)
    assert np.all(seq[:, :, 1].sum(axis=1) == 2)                # two marked steps
    np.testing.assert_allclose(add.y_train[:, 0], (seq[:, :, 0] * seq[:, :, 1]).sum(axis=1))
    first = seq[:, :, 1].argmax(axis=1)
    assert np.all(first < 4) and np.all(seq[:, 4:, 1].sum(axis=1) == 1)   # one in each half


def test_sequence_keys_are_checked():
    with pytest.raises(DataError, match="steps applies to the sequence datasets"):
        load_dataset("circle", steps=5)
    with pytest.raises(DataError, match="pattern applies to dataset 'sine_wave'"):
        load_dataset("adding", pattern="many_to_many")
    with pytest.raises(DataError, match="steps must be an integer from 1 to 1000"):
        load_dataset("sine_wave", steps=0)
    with pytest.raises(DataError, match="pattern must be one of"):
        load_dataset("sine_wave", pattern="two_to_one")


def test_csv_sequences_with_a_shape(tmp_path):
    cols = [f"t{t}_{f}" for t in range(3) for f in "ab"]
    rows = [",".join(cols + ["y"])]
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows.append(",".join(f"{v:.3f}" for v in rng.normal(size=6)) + f",{rng.normal():.3f}")
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset("csv", path="s.csv", target="y", base_dir=tmp_path, shape=[3, 2])
    assert ds.input_shape == (3, 2) and ds.input_kind == "sequence"
    with pytest.raises(DataError, match="step 0's features, then step 1's"):
        load_dataset("csv", path="s.csv", target="y", base_dir=tmp_path, shape=[4, 2])


def test_targets_are_the_inputs():
    ds = load_dataset("digits", target="inputs", seed=0)
    assert ds.task == "regression" and ds.n_classes is None
    np.testing.assert_array_equal(ds.y_train, ds.x_train)
    assert ds.target_shape == (1, 8, 8) and ds.labels_train is not None
    assert ds.labels_train.shape == (len(ds.x_train),) and set(ds.labels_train) == set(range(10))
    with pytest.raises(DataError, match='"inputs"'):
        load_dataset("digits", target="label")


SCENARIO = '''
[scenario]
name = "t"
[data]
dataset = "{dataset}"
{data}
[[layers]]
type = "{kind}"
units = 4
return_sequences = {rseq}
[[layers]]
type = "dense"
units = {units}
activation = "{act}"
[training]
loss = "{loss}"
optimizer = "adam"
learning_rate = 0.01
epochs = 2
clip_norm = 1.5
'''


def _scenario(**kw):
    args = dict(dataset="sine_wave", data="steps = 6", kind="lstm", rseq="false", units=1,
                act="linear", loss="mse")
    args.update(kw)
    return loads_scenario(SCENARIO.format(**args))


def test_scenarios_build_and_write_back():
    for kw in ({}, dict(kind="simple_rnn", rseq="true", data='steps = 6\npattern = "many_to_many"'),
               dict(rseq="true", data='steps = 5\npattern = "one_to_many"'),
               dict(dataset="first_symbol", act="sigmoid", loss="binary_crossentropy"),
               dict(dataset="adding", data="steps = 8")):
        sc = _scenario(**kw)
        assert loads_scenario(dump_scenario(sc)) == sc
        session = build_session(sc)
        tr = session.trainer
        assert tr.clip_norm == 1.5 and tr.net.recurrent
        tr.step_epoch()


@pytest.mark.parametrize("kw,message", [
    (dict(rseq="true"), "returns every step.*set return_sequences = false"),
    (dict(data='steps = 6\npattern = "many_to_many"'), "needs 6 units"),
    (dict(dataset="digits", data="", loss="sparse_categorical_crossentropy", units=10,
          act="softmax"), "needs sequences"),
    (dict(data="steps = 6\nclasses = 3"), "classes"),
    (dict(dataset="circle", data="steps = 6"), "steps"),
])
def test_scenario_mistakes_are_named(kw, message):
    with pytest.raises(ScenarioError, match=message):
        sc = _scenario(**kw)
        build_session(sc)


def test_autoencoder_scenario():
    sc = loads_scenario('''
[scenario]
name = "ae"
[data]
dataset = "digits"
target = "inputs"
[[layers]]
type = "dense"
units = 2
[[layers]]
type = "dense"
units = 64
activation = "sigmoid"
[training]
loss = "mse"
epochs = 1
''')
    session = build_session(sc)
    assert session.network.output_dim == 64 and session.dataset.task == "regression"
    with pytest.raises(ScenarioError, match="its targets are its inputs, so the output layer needs 64"):
        loads_scenario(dump_scenario(sc).replace("units = 64", "units = 10"))
