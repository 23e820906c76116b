"""GPU benchmark: the cuda backend against the cpu backend, milliseconds per training epoch.

Workloads: W1–W3 of bench_engine.py (playground MLP, digits MLP, MNIST-sized MLP), W4 (the
LeNet digits lesson: conv 8 → max pool → conv 16 → max pool → softmax on 8×8 digits, batch
32) and an MNIST-size MLP with a large batch (784 → 256 → 128 → 10, Adam, batch 1024, 60,000
samples). Each workload first checks that the two backends agree (the first mini-batches'
losses, same seed), then times whole epochs (training and the end-of-epoch evaluation) after a
warm-up epoch that compiles the kernels.

On a machine without a usable GPU it says so, and why, and exits 0. Under Numba's CUDA
simulator it refuses to time (the simulator runs kernels as Python threads) unless
--max-batches is given, which runs a few batches of each workload as a smoke test.

    python benchmarks/bench_gpu.py [--quick] [--workloads W1,W3,MLP] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import WORKLOADS, Workload, make_data, make_trainer  # noqa: E402

from nnsim.kernels import BackendUnavailable, detect, resolve_backend  # noqa: E402

MLP = Workload("MLP", "MNIST-size MLP, large batch: relu, softmax + CE, Adam", (784, 256, 128, 10),
               "relu", "softmax", "sparse_categorical_crossentropy", "adam", 0.001, 1024, 60_000)
W4 = Workload("W4", "LeNet on digits: conv, max pool, softmax + CE, Adam", (64, 10), "relu",
              "softmax", "sparse_categorical_crossentropy", "adam", 0.01, 32, 1437)
W4_LESSON = Path(__file__).resolve().parents[1] / "scenarios" / "45-convolutional-network-lenet.toml"
ALL = {**WORKLOADS, "W4": W4, "MLP": MLP}
CHECK_BATCHES = 5
CHECK_RTOL = 1e-4          # float32 batch losses, cpu vs cuda (the tests hold 1e-5 on tiny nets)


def gpu_name() -> str:
    from numba import cuda
    if detect.simulator():
        return "Numba CUDA simulator"
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return f"{name} (compute capability {dev.compute_capability[0]}.{dev.compute_capability[1]})"


def trainer(w: Workload, x: np.ndarray, y: np.ndarray, backend: str):
    if w.key == "W4":          # the lesson as it is (its data, layers and settings)
        from nnsim.scenarios import load_scenario
        from nnsim.scenarios.build import build_session
        return build_session(load_scenario(W4_LESSON), backend=backend).trainer
    return make_trainer(w, x, y, backend)


def data(w: Workload):
    if w.key == "W4":
        return None, None, "digits (the lesson's own)"
    return make_data(w)


def agreement(w: Workload, x: np.ndarray, y: np.ndarray, batches: int) -> float:
    """Max relative difference of the first batches' losses, cpu vs cuda, same seed."""
    a, b = trainer(w, x, y, "cpu"), trainer(w, x, y, "cuda")
    la, _ = a.play(batches)
    lb, _ = b.play(batches)
    return float(np.max(np.abs(la - lb) / np.maximum(np.abs(la), 1e-30)))


def time_epochs(w: Workload, x: np.ndarray, y: np.ndarray, backend: str, repeats: int,
                max_batches: int | None) -> list[float]:
    tr = trainer(w, x, y, backend)
    run = (lambda: tr.play(max_batches)) if max_batches else tr.step_epoch
    run()                                         # warm-up: compiles the kernels
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 timed epochs instead of 7")
    ap.add_argument("--workloads", default="W1,W2,W3,W4,MLP", help="comma-separated subset of "
                    + ",".join(ALL))
    ap.add_argument("--max-batches", type=int, default=None,
                    help="time N batches instead of whole epochs (a smoke test; allowed under "
                         "the simulator)")
    ap.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    bad = [k for k in keys if k not in ALL]
    if bad:
        ap.error(f"unknown workload(s) {', '.join(bad)}; valid choices: {', '.join(ALL)}")

    try:
        resolve_backend("cuda")
    except BackendUnavailable as exc:
        print(f"No usable GPU here, so there is nothing to time: {exc}.")
        print('On a machine with an NVIDIA GPU: pip install -e ".[cuda]", then run this again.')
        return 0
    if detect.simulator() and not args.max_batches:
        print("NUMBA_ENABLE_CUDASIM is set: the simulator runs kernels as Python threads, so "
              "timings mean nothing. Pass --max-batches N for a smoke test.")
        return 0

    repeats = 3 if args.quick else 7
    print(f"GPU: {gpu_name()}")
    print("median ms per epoch (training plus the end-of-epoch evaluation), float32"
          if not args.max_batches else f"median ms per {args.max_batches} mini-batches")
    header = f"{'workload':>8}  {'layers':>18}  {'batch':>5}  {'cpu':>9}  {'cuda':>9}  {'cuda×':>6}  agree"
    print(header)
    results = {}
    for key in keys:
        w = ALL[key]
        x, y, _ = data(w)
        check = min(CHECK_BATCHES, args.max_batches or CHECK_BATCHES)
        diff = agreement(w, x, y, check)
        cpu = time_epochs(w, x, y, "cpu", repeats, args.max_batches)
        gpu = time_epochs(w, x, y, "cuda", repeats, args.max_batches)
        c, g = statistics.median(cpu), statistics.median(gpu)
        ok = diff <= CHECK_RTOL
        arch = "LeNet (8×8 digits)" if key == "W4" else w.arch
        print(f"{key:>8}  {arch:>18}  {w.batch:>5}  {c:9.2f}  {g:9.2f}  {c / g:5.1f}×  "
              f"{'ok' if ok else 'DIFFERS'} ({diff:.1e})")
        results[key] = {"arch": w.arch, "batch": w.batch, "cpu_ms": cpu, "cuda_ms": gpu,
                        "speedup": c / g, "loss_rel_diff": diff}
    print("\ntarget (issue 13): cuda ≥ 10× the cpu backend on W3 and W4")
    if args.json:
        Path(args.json).write_text(json.dumps({"gpu": gpu_name(), "results": results}, indent=2))
    return 0 if all(r["loss_rel_diff"] <= CHECK_RTOL for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
