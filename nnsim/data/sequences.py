"""Seeded sequence datasets for recurrent networks.

Each sample is a sequence of T steps of F features, flattened step by step into one row of
T·F values (step 0's features, then step 1's, …), with the dataset's `input_shape` (T, F).

* `sine_wave` — a sine of period `SINE_PERIOD` steps at a random phase, in three usage patterns:
  many_to_one (read T noisy values, predict the next one), many_to_many (predict the next value
  after every step: T targets), one_to_many (only step 0 holds a value, the seed s = sin φ with
  φ on the rising half [−π/2, π/2]; predict the wave sin(φ + ωt) for t = 0 … T−1).
* `first_symbol` — T random symbols out of k (one-hot, F = k); the label is the first one. Every
  later step is noise to be ignored: the answer must be carried through all T steps.
* `adding` — T steps of (value uniform in [0, 1), marker); exactly two steps are marked, one in
  each half; the target is the sum of the two marked values (the classic long-memory test).
"""

from __future__ import annotations

import numpy as np

SINE_PERIOD = 16                      # steps per period of the sine waves
PATTERNS = ("many_to_one", "many_to_many", "one_to_many")


def sine_wave(n: int, steps: int, noise: float, rng: np.random.Generator,
              pattern: str = "many_to_one") -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps), y (n, 1) or (n, steps)) for one of `PATTERNS`; `noise` is the standard
    deviation of Gaussian noise on the inputs (the targets are clean)."""
    w = 2.0 * np.pi / SINE_PERIOD
    t = np.arange(steps + 1)
    if pattern == "one_to_many":
        phase = rng.uniform(-np.pi / 2, np.pi / 2, n)
        wave = np.sin(phase[:, None] + w * t[None, :steps])
        x = np.zeros((n, steps))
        x[:, 0] = wave[:, 0] + rng.normal(0.0, 1.0, n) * noise
        return x, wave
    phase = rng.uniform(0.0, 2.0 * np.pi, n)
    wave = np.sin(phase[:, None] + w * t[None, :])
    x = wave[:, :steps] + rng.normal(0.0, 1.0, (n, steps)) * noise
    if pattern == "many_to_many":
        return x, wave[:, 1:]
    return x, wave[:, steps:]


def first_symbol(n: int, steps: int, symbols: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps·symbols) one-hot step by step, y (n,) the first step's symbol)."""
    s = rng.integers(0, symbols, (n, steps))
    x = np.zeros((n, steps, symbols))
    np.put_along_axis(x, s[:, :, None], 1.0, axis=2)
    return x.reshape(n, steps * symbols), s[:, 0].copy()


def adding(n: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps·2): value, marker at each step; y (n,) the sum of the two marked values)."""
    values = rng.uniform(0.0, 1.0, (n, steps))
    half = max(steps // 2, 1)
    first = rng.integers(0, half, n)
    second = rng.integers(half, steps, n) if steps > 1 else first
    marks = np.zeros((n, steps))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second] * (second != first)
    return np.stack([values, marks], axis=2).reshape(n, steps * 2), y


def step_names(steps: int, features: list[str]) -> list[str]:
    """Column names of a flattened sequence: "t0.x", "t1.x", … (features within each step)."""
    return [f"t{t}.{f}" for t in range(steps) for f in features]
