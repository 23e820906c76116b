"""Tiny generated images for the convolution lessons.

``edges``: 6 × 6 one-channel images holding one straight edge from dark (0) to light (1):
class 0 a vertical edge (dark on the left, light on the right), class 1 a horizontal edge
(dark above, light below), at a random place, plus Gaussian noise of std ``noise``. Small
enough that a 3 × 3 kernel's arithmetic can be followed cell by cell.
"""

from __future__ import annotations

import numpy as np

EDGES_SHAPE = (1, 6, 6)
EDGE_CLASSES = ("vertical edge", "horizontal edge")


def edges(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n images (n, 36) and labels (0 vertical, 1 horizontal), classes alternating."""
    _, h, w = EDGES_SHAPE
    x = np.zeros((n, h, w))
    y = np.arange(n) % 2
    cut = rng.integers(1, w, n)               # the first light column (or row)
    for i in range(n):
        if y[i] == 0:
            x[i, :, cut[i]:] = 1.0
        else:
            x[i, cut[i]:, :] = 1.0
    if noise > 0:
        x += rng.normal(0.0, noise, x.shape)
    return x.reshape(n, h * w), y.astype(np.int64)


def pixel_names(shape: tuple[int, int, int]) -> list[str]:
    """Column names of a flattened image: px{row}_{col}, or c{channel}_px{row}_{col}."""
    c, h, w = shape
    if c == 1:
        return [f"px{r}_{k}" for r in range(h) for k in range(w)]
    return [f"c{ch}_px{r}_{k}" for ch in range(c) for r in range(h) for k in range(w)]
