"""Can the cuda backend run here? Found without importing numba or numba.cuda.

Only a request for the `cuda` or `auto` backend asks (the cpu start-up never does): it loads
the NVIDIA driver library with ctypes, calls cuInit and cuDeviceGetCount, and looks for the
numba-cuda package without importing it. Under Numba's CUDA simulator
(NUMBA_ENABLE_CUDASIM=1, the tests) the simulated device counts as present for `cuda`, never
for `auto`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from functools import lru_cache

MIN_NUMBA_CUDA = (0, 30)
INSTALL_HINT = 'pip install "numba-cuda[cu12]>=0.30", or pip install -e ".[cuda]" in a clone'
_DRIVER_LIBS = {"win32": ("nvcuda.dll",)}
_DEFAULT_LIBS = ("libcuda.so.1", "libcuda.so")
CUDA_ERROR_NO_DEVICE = 100


def simulator() -> bool:
    """True when Numba's CUDA simulator is switched on (NUMBA_ENABLE_CUDASIM=1)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0")


def _version(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def numba_cuda_problem() -> str | None:
    """None when numba-cuda (>= 0.30) is installed; else what is wrong."""
    if importlib.util.find_spec("numba_cuda") is None:
        return f"numba-cuda is not installed ({INSTALL_HINT})"
    from importlib.metadata import PackageNotFoundError, version
    try:
        have = version("numba-cuda")
    except PackageNotFoundError:
        return None
    if _version(have) < MIN_NUMBA_CUDA:
        need = ".".join(map(str, MIN_NUMBA_CUDA))
        return f"numba-cuda {have} is too old (need >= {need}; {INSTALL_HINT})"
    return None


def driver_problem() -> str | None:
    """None when the NVIDIA driver starts and sees at least one CUDA device; else which of
    the two is missing."""
    if sys.platform == "darwin":
        return "CUDA does not run on macOS (no NVIDIA driver)"
    lib = None
    names = _DRIVER_LIBS.get(sys.platform, _DEFAULT_LIBS)
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return f"no NVIDIA driver was found ({names[0]} cannot be loaded)"
    try:
        rc = int(lib.cuInit(0))
        if rc == CUDA_ERROR_NO_DEVICE:
            return "the NVIDIA driver is installed but sees no CUDA device"
        if rc != 0:
            return f"the NVIDIA driver did not start (cuInit returned CUDA error {rc})"
        count = ctypes.c_int(0)
        rc = int(lib.cuDeviceGetCount(ctypes.byref(count)))
    except AttributeError:
        return f"{names[0]} is not a usable NVIDIA driver (no cuInit)"
    if rc != 0 or count.value < 1:
        return "the NVIDIA driver is installed but sees no CUDA device"
    return None


@lru_cache(maxsize=None)
def _problem(sim: bool) -> str | None:
    package = numba_cuda_problem()
    if sim:
        return package
    problems = [p for p in (driver_problem(), package) if p]
    return "; ".join(problems) or None


def cuda_problem() -> str | None:
    """Why the cuda backend cannot run here (no driver, no device, numba-cuda missing or too
    old — every reason that applies), or None when it can. Asked once per process."""
    return _problem(simulator())


def gpu_present() -> bool:
    """A real GPU with numba-cuda installed: what backend "auto" looks for."""
    return not simulator() and cuda_problem() is None
