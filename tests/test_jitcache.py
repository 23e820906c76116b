"""The kernels' on-disk Numba cache follows every kernel source file, the catalogue included.

Numba freezes imported constants into cached machine code and, left to itself, invalidates a
cache entry only when the defining file changes. A copy of the kernel package is compiled in a
fresh process, reloaded from the cache, then its catalogue alone is edited: the next process
must recompile and compute with the new constant.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nnsim.kernels

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from kcopy import catalogue, cpu
z = np.array([[-1.0, 2.0]])
a = np.empty_like(z)
cpu.act_forward(catalogue.RELU, 0.0, z, a)
st = cpu.act_forward.stats
print(json.dumps({"a": a.tolist(), "hits": sum(st.cache_hits.values()),
                  "misses": sum(st.cache_misses.values())}))
"""


def _run(root: Path, cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(root)], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_changed_catalogue_constant_recompiles_the_kernels(tmp_path: Path) -> None:
    src = Path(nnsim.kernels.__file__).parent
    pkg = tmp_path / "kcopy"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"

    first = _run(tmp_path, cache)
    assert first["a"] == [[0.0, 2.0]] and first["misses"] == 1
    again = _run(tmp_path, cache)
    assert again["a"] == [[0.0, 2.0]] and again["hits"] == 1 and again["misses"] == 0

    # swap the codes of tanh and relu in the catalogue only: cpu.py is byte-for-byte the same
    cat = pkg / "catalogue.py"
    text = cat.read_text(encoding="utf-8")
    old = "LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTMAX = range(7)"
    assert old in text
    cat.write_text(text.replace(old, "LINEAR, SIGMOID, RELU, TANH, LEAKY_RELU, ELU, SOFTMAX = range(7)"),
                   encoding="utf-8")
    after = _run(tmp_path, cache)
    # a stale kernel would read the new relu code (2) as tanh: [-0.76, 0.96]
    assert after["a"] == [[0.0, 2.0]]
    assert after["misses"] == 1 and after["hits"] == 0
