"""Scenario files with conv2d, maxpool2d, avgpool2d and flatten layers: keys, defaults,
round trips, shape errors named by layer and line, image data keys, and `nnsim check`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.cli.main import main
from nnsim.data.idx import write_idx
from nnsim.scenarios import ScenarioError, dump_scenario, load_scenario, loads_scenario
from nnsim.scenarios.build import build_session

CNN = '''
[scenario]
name = "small cnn"

[data]
dataset = "digits"
test_fraction = 0.3

[[layers]]
type = "conv2d"
filters = 4
kernel_size = 3
activation = "relu"

[[layers]]
type = "maxpool2d"

[[layers]]
type = "conv2d"
filters = 2
kernel_size = [2, 1]
stride = [1, 1]
padding = "same"

[[layers]]
type = "avgpool2d"
pool_size = [1, 3]
stride = 1

[[layers]]
type = "flatten"

[[layers]]
units = 10
activation = "softmax"

[training]
loss = "sparse_categorical_crossentropy"
optimizer = "adam"
learning_rate = 0.01
epochs = 1
'''


def test_a_cnn_scenario_validates_round_trips_and_builds() -> None:
    s = loads_scenario(CNN)
    assert [l.type for l in s.layers] == ["conv2d", "maxpool2d", "conv2d", "avgpool2d", "flatten", "dense"]
    assert s.layers[0].stride == 1 and s.layers[0].padding == "valid" and s.layers[1].pool_size == 2
    assert s.layers[1].stride is None
    assert loads_scenario(dump_scenario(s)) == s
    net = build_session(s).network
    assert [r.output_shape for r in net.summary()] == [
        "(None, 4, 6, 6)", "(None, 4, 3, 3)", "(None, 2, 3, 3)", "(None, 2, 3, 1)", "(None, 6)",
        "(None, 10)"]
    assert net.layered and net.input_shape == (1, 8, 8)


def _edit(old: str, new: str) -> str:
    assert old in CNN
    return CNN.replace(old, new, 1)


@pytest.mark.parametrize("text,path,words,line", [
    (_edit("kernel_size = 3", "kernel_size = 9"), "layers[0].kernel_size",
     ["layer 1 (conv2d)", "9×9 kernel is larger than its 8×8 input (1, 8, 8)"], 12),
    (_edit('type = "maxpool2d"', 'type = "maxpool2d"\npool_size = 7'), "layers[1].pool_size",
     ["layer 2 (maxpool2d)", "7×7 pool is larger than its 6×6 input (4, 6, 6)", "0×0"], 17),
    (_edit('[[layers]]\ntype = "flatten"\n', ""), "layers[4].type",
     ["layer 5 (dense)", "(2, 3, 1) feature maps", "add a flatten layer"], 31),
    (_edit('dataset = "digits"', 'dataset = "xor"'), "layers[0].type",
     ["layer 1 (conv2d)", "needs images", "flat vectors of 2 values"], 10),
    (_edit("kernel_size = 3", "kernel_size = 0"), "layers[0].kernel_size",
     ["must be an integer >= 1 or a [height, width] pair"], 12),
    (_edit("kernel_size = 3", "kernel_size = [3, 3, 3]"), "layers[0].kernel_size",
     ["[height, width] pair"], 12),
    (_edit('padding = "same"', 'padding = "full"'), "layers[2].padding", ['"valid" or "same"'], 23),
    (_edit("kernel_size = 3", "kernel_size = 3\nkernel = [[1, 0], [1, 0]]"), "layers[0].kernel",
     ["kernel has shape (2, 2)", "(4, 1, 3, 3)"], 13),
    (_edit("kernel_size = 3", "kernel_size = 3\nkernel = [[1, 0], [1]]"), "layers[0].kernel",
     ["rectangular array of finite numbers"], 13),
    (_edit("filters = 4", "units = 4"), "layers[0].units",
     ["unknown key 'units' for a conv2d layer", "belongs to dense layers"], 11),
    (_edit('test_fraction = 0.3', 'test_fraction = 0.3\nshape = [1, 8, 8]'), "data.shape",
     ["applies only to dataset 'csv'"], 8),
    (_edit('test_fraction = 0.3', 'test_fraction = 0.3\nimages = "x.idx"'), "data.images",
     ["applies only to dataset 'idx'"], 8),
])
def test_scenario_errors_name_the_layer_and_shapes(text, path, words, line) -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="cnn.toml")
    hits = [p for p in info.value.problems if p.path == path]
    assert hits, str(info.value)
    for w in words:
        assert w in hits[0].message, hits[0].message
    assert hits[0].line == line, (hits[0].line, str(info.value))


def test_idx_and_csv_shape_scenarios(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "img.gz", rng.integers(0, 256, (30, 10, 9)))
    write_idx(tmp_path / "lab.gz", np.arange(30) % 3)
    text = _edit('dataset = "digits"', 'dataset = "idx"\nimages = "img.gz"\nlabels = "lab.gz"')
    text = text.replace("units = 10", "units = 3")
    path = tmp_path / "idx.toml"
    path.write_text(text, encoding="utf-8")
    session = build_session(load_scenario(path))
    assert session.network.input_shape == (1, 10, 9) and session.dataset.n_classes == 3
    path.write_text(text.replace("kernel_size = 3", "kernel_size = 10"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"10×10 kernel is larger than its 10×9 input"):
        load_scenario(path)
    path.write_text(text.replace('images = "img.gz"\n', ""), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"data.images.*required for dataset 'idx'"):
        load_scenario(path)

    header = ",".join([f"p{i}" for i in range(192)] + ["y"])
    rows = [",".join(str(v) for v in list(rng.integers(0, 5, 192)) + [i % 2]) for i in range(20)]
    (tmp_path / "px.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    csv_text = (_edit('dataset = "digits"', 'dataset = "csv"\npath = "px.csv"\ntarget = "y"\n'
                      'shape = [3, 8, 8]').replace("units = 10", "units = 2")
                .replace("kernel_size = 3", "kernel_size = 2"))
    (tmp_path / "csv.toml").write_text(csv_text, encoding="utf-8")
    net = build_session(load_scenario(tmp_path / "csv.toml")).network
    assert net.input_shape == (3, 8, 8) and net.summary()[0].output_shape == "(None, 4, 7, 7)"
    (tmp_path / "csv.toml").write_text(csv_text.replace("shape = [3, 8, 8]\n", ""), encoding="utf-8")
    with pytest.raises(ScenarioError, match="give \\[data\\] shape"):
        load_scenario(tmp_path / "csv.toml")


def test_nnsim_check_prints_each_layers_shape_and_parameters(capsys, tmp_path: Path) -> None:
    path = tmp_path / "cnn.toml"
    path.write_text(CNN, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    for fragment in ["(None, 1, 8, 8)", "conv2d_1 (Conv2D)", "(None, 4, 6, 6)", "40",
                     "(None, 4, 3, 3)", "(None, 2, 3, 3)", "18", "(None, 2, 3, 1)", "(None, 6)",
                     "70", "Total params: 128", "4 filters 3×3, stride 1×1",
                     "max of 2×2, stride 2×2", "channel by channel, row by row"]:
        assert fragment in out, (fragment, out)
