"""Every CUDA kernel compiles to PTX for compute capabilities 8.0 and 9.0 — no GPU needed.

This catches what the simulator lets through (it runs the kernels as Python): unsupported
functions, Python objects, typing errors. The argument types are `cuda.signatures`, which the
simulator tests check every launch against. Needs numba-cuda (`pip install -e ".[cuda]"`; the
test extra installs it too).
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from nnsim.kernels import detect

if detect.simulator():
    pytest.skip("compiling to PTX needs the real CUDA target, not the simulator",
                allow_module_level=True)
if detect.numba_cuda_problem() is not None:
    pytest.skip(detect.numba_cuda_problem() or "", allow_module_level=True)

CCS = [(8, 0), (9, 0)]


@pytest.fixture
def target_cc(monkeypatch):
    """Device functions called from a kernel are compiled for the current device's compute
    capability, which numba-cuda asks the driver for; without a GPU, answer with the target's."""
    import numba.cuda.dispatcher as dispatcher

    def use(cc):
        monkeypatch.setattr(dispatcher, "get_current_device",
                            lambda: types.SimpleNamespace(compute_capability=cc))
    return use


@pytest.mark.parametrize("cc", CCS, ids=lambda cc: f"sm_{cc[0]}{cc[1]}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_compiles_to_ptx(dtype, cc, target_cc):
    from numba import cuda as nb_cuda

    from nnsim.kernels import cuda

    target_cc(cc)
    sigs = cuda.signatures(dtype)
    kernels = cuda.kernels(dtype)
    assert set(sigs) == set(kernels)
    for name, kernel in kernels.items():
        ptx, _ = nb_cuda.compile_ptx(kernel.py_func, sigs[name], cc=cc)
        assert f".target sm_{cc[0]}{cc[1]}" in ptx, name
        assert ".entry" in ptx, name
