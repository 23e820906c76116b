"""Choosing a backend: cpu, cuda or auto; why cuda cannot run, said plainly (exit 2, no traceback);
the cpu path never looks for a GPU. Runs without a GPU and without the simulator: the driver,
the device and the numba-cuda package are faked one at a time."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest

from nnsim.cli.main import main
from nnsim.kernels import BackendUnavailable, detect, resolve_backend

ROOT = Path(__file__).resolve().parents[1]
LESSON = str(ROOT / "scenarios" / "05-xor-with-hidden-layer.toml")


@pytest.fixture
def machine(monkeypatch):
    """Fake what detect finds: set(driver=..., package=...) with a problem text or None."""
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)

    def set_(driver: str | None, package: str | None) -> None:
        monkeypatch.setattr(detect, "driver_problem", lambda: driver)
        monkeypatch.setattr(detect, "numba_cuda_problem", lambda: package)
        detect._problem.cache_clear()

    yield set_
    detect._problem.cache_clear()


NO_DRIVER = "no NVIDIA driver was found (libcuda.so.1 cannot be loaded)"
NO_DEVICE = "the NVIDIA driver is installed but sees no CUDA device"
NO_PACKAGE = f"numba-cuda is not installed ({detect.INSTALL_HINT})"


@pytest.mark.parametrize("driver,package", [(NO_DRIVER, None), (NO_DEVICE, None),
                                            (None, NO_PACKAGE), (NO_DRIVER, NO_PACKAGE)])
def test_cuda_without_a_gpu_names_every_reason(machine, driver, package, capsys):
    machine(driver, package)
    with pytest.raises(BackendUnavailable) as info:
        resolve_backend("cuda")
    for reason in (driver, package):
        if reason:
            assert reason in str(info.value)
    assert resolve_backend("auto") == "cpu"
    assert main(["run", LESSON, "--epochs", "1", "-q", "--backend", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnsim: error: --backend cuda: the cuda backend cannot run here")
    assert "Traceback" not in err
    for reason in (driver, package):
        if reason:
            assert reason in err
    assert main(["gradcheck", LESSON, "--backend", "cuda"]) == 2


def test_a_file_asking_for_cuda_says_so(machine, tmp_path, capsys):
    machine(NO_DRIVER, None)
    text = Path(LESSON).read_text(encoding="utf-8").replace("[training]\n",
                                                            '[training]\nbackend = "cuda"\n')
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--epochs", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert f'training.backend = "cuda" in {path}' in err and NO_DRIVER in err
    assert main(["run", str(path), "--epochs", "1", "-q", "--backend", "cpu"]) in (0, 1)


def test_auto_trains_on_cpu_without_a_gpu(machine, capsys):
    machine(NO_DRIVER, None)
    assert main(["run", LESSON, "--epochs", "1", "-q", "--backend", "auto"]) in (0, 1)
    assert "Epoch 1/1" in capsys.readouterr().out


def test_unknown_backends_are_refused():
    with pytest.raises(ValueError, match="valid choices: cpu, cuda, auto"):
        resolve_backend("gpu")
    assert main(["run", LESSON, "--backend", "gpu"]) == 2


def test_driver_detection_without_numba(monkeypatch):
    """The driver is asked through ctypes: no library, no device (cuInit's error 100), a device."""
    class Lib:
        def __init__(self, rc: int, count: int) -> None:
            self.rc, self.count = rc, count

        def cuInit(self, flags: int) -> int:
            return self.rc

        def cuDeviceGetCount(self, ref) -> int:
            ctypes.cast(ref, ctypes.POINTER(ctypes.c_int)).contents.value = self.count
            return 0

    monkeypatch.setattr(detect.sys, "platform", "linux")

    def missing(name):
        raise OSError(name)

    monkeypatch.setattr(detect.ctypes, "CDLL", missing)
    assert "no NVIDIA driver" in detect.driver_problem()
    monkeypatch.setattr(detect.ctypes, "CDLL", lambda name: Lib(100, 0))
    assert "sees no CUDA device" in detect.driver_problem()
    monkeypatch.setattr(detect.ctypes, "CDLL", lambda name: Lib(0, 0))
    assert "sees no CUDA device" in detect.driver_problem()
    monkeypatch.setattr(detect.ctypes, "CDLL", lambda name: Lib(999, 0))
    assert "cuInit returned CUDA error 999" in detect.driver_problem()
    monkeypatch.setattr(detect.ctypes, "CDLL", lambda name: Lib(0, 2))
    assert detect.driver_problem() is None


def test_numba_cuda_detection(monkeypatch):
    monkeypatch.setattr(detect.importlib.util, "find_spec", lambda name: None)
    assert detect.numba_cuda_problem() == NO_PACKAGE


def test_the_cpu_path_never_looks_for_a_gpu():
    """A cpu run imports neither the detection nor numba.cuda (start-up stays as it was)."""
    code = ("import sys\nfrom nnsim.cli.main import main\n"
            f"main(['run', {LESSON!r}, '--epochs', '1', '-q'])\n"
            "print(sorted(m for m in ('numba.cuda', 'numba_cuda.numba.cuda', 'nnsim.kernels.detect',"
            " 'nnsim.kernels.cuda') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.strip().splitlines()[-1]
    assert out == "[]"
