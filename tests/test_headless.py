"""The headless core never imports textual or rich, and the engine never prints."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = ["nnsim.engine", "nnsim.kernels", "nnsim.kernels.cpu", "nnsim.kernels.reference",
            "nnsim.data", "nnsim.scenarios", "nnsim.engine.checkpoint", "nnsim.engine.gradcheck"]


@pytest.mark.parametrize("module", HEADLESS)
def test_module_imports_no_ui_library(module: str) -> None:
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_training_prints_nothing(capfd) -> None:
    import numpy as np

    from nnsim.engine import Dense, Network, Trainer
    x = np.random.default_rng(0).normal(size=(30, 2))
    tr = Trainer(Network(2, [Dense(3, "relu"), Dense(1)]), x, x[:, :1], loss="mse", batch_size=5)
    for _ in tr.train(2):
        pass
    list(tr.walk_step())
    out, err = capfd.readouterr()
    assert out == "" and err == ""
