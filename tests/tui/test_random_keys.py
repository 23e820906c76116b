"""1,000 seeded random keys against the app end with q and exit status 0 (issue 9); the
10,000-key run is benchmarks/random_keys.py, which this test drives."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "random_keys.py"


def _driver():
    spec = importlib.util.spec_from_file_location("random_keys", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_key_set_excludes_quitting_and_os_level_keys():
    keys = _driver().app_keys()
    assert not {"q", "ctrl+q", "ctrl+c", "ctrl+z", "f12"} & set(keys)
    assert {"space", "n", "o", "escape", "enter", "tab", "left", "1", "question_mark"} <= set(keys)


@pytest.mark.slow
def test_1000_random_keys_then_q_exits_0(tmp_path):
    result = _driver().run(1_000, seed=2024, work_dir=tmp_path)
    assert result.return_code == 0
    assert sum(result.screens.values()) == 1_000
    assert result.screens["WorkspaceScreen"] > 0 and result.screens["GalleryScreen"] > 0
