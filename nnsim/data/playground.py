"""TensorFlow Playground's data generators (after its ``dataset.ts``).

Points lie in [-6, 6]^2 (playground scale). ``noise`` is the playground's
0-50 % slider as a fraction 0-0.5. The playground labels classes -1/+1; here
+1 becomes class 1 and -1 becomes class 0. Regression targets lie in about
[-1, 1] as in the playground. Every generator returns ``(points, labels)``
with points (N, 2) float64 in a fixed order (callers shuffle when splitting).
"""

from __future__ import annotations

import numpy as np

Raw = tuple[np.ndarray, np.ndarray]


def _halves(n: int) -> tuple[int, int]:
    """Split ``n`` into (first, second) halves; the first gets the odd one."""
    return n - n // 2, n // 2


def _uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.uniform(lo, hi, n)


def circle(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Class 1 inside radius 2.5, class 0 in the ring 3.5-5 (labels from the noisy point)."""
    radius = 5.0
    n_in, n_out = _halves(n)

    def ring(k: int, r_lo: float, r_hi: float) -> tuple[np.ndarray, np.ndarray]:
        r = _uniform(rng, r_lo, r_hi, k)
        angle = _uniform(rng, 0.0, 2 * np.pi, k)
        pts = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        jitter = rng.uniform(-radius, radius, (k, 2)) * noise
        label = (np.hypot(*(pts + jitter).T) < radius * 0.5).astype(np.int64)
        return pts, label

    p_in, l_in = ring(n_in, 0.0, radius * 0.5)
    p_out, l_out = ring(n_out, radius * 0.7, radius)
    return np.concatenate([p_in, p_out]), np.concatenate([l_in, l_out])


def xor(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Quadrants: class 1 where x1*x2 >= 0 (of the noisy point), with a 0.3 gap at the axes."""
    pts = rng.uniform(-5.0, 5.0, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    jitter = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    noisy = pts + jitter
    label = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return pts, label


def gauss(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Two Gaussians at (2, 2) (class 1) and (-2, -2) (class 0); variance 0.5-4 with noise."""
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    std = np.sqrt(variance)
    n_pos, n_neg = _halves(n)
    pos = rng.normal(2.0, std, (n_pos, 2))
    neg = rng.normal(-2.0, std, (n_neg, 2))
    labels = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return np.concatenate([pos, neg]), labels


def spiral_arms(n: int, noise: float, rng: np.random.Generator, arms: int) -> Raw:
    """``arms`` interleaved spirals, 1.75 turns out to radius 5; arm k is class k.

    With two arms this is the playground spiral: class 1 starts at angle 0,
    class 0 at angle pi.
    """
    counts = [n // arms + (1 if k < n % arms else 0) for k in range(arms)]
    pts_list, lab_list = [], []
    for k, m in enumerate(counts):
        if arms == 2:
            delta, label = (0.0, 1) if k == 0 else (np.pi, 0)
        else:
            delta, label = 2 * np.pi * k / arms, k
        i = np.arange(m, dtype=np.float64)
        r = i / m * 5.0
        t = 1.75 * i / m * 2 * np.pi + delta
        jitter = rng.uniform(-1.0, 1.0, (m, 2)) * noise
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + jitter
        pts_list.append(pts)
        lab_list.append(np.full(m, label, dtype=np.int64))
    return np.concatenate(pts_list), np.concatenate(lab_list)


def spiral(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """The playground's two-arm spiral."""
    return spiral_arms(n, noise, rng, 2)


def reg_plane(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Target (x1 + x2) / 10 of the noisy point; uniform points in [-6, 6]^2."""
    radius = 6.0
    pts = rng.uniform(-radius, radius, (n, 2))
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    noisy = pts + jitter
    return pts, (noisy[:, 0] + noisy[:, 1]) / 10.0


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def reg_gauss(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Six +/- bumps in two rows; target is the strongest bump, sign * clamp(1 - d/2, 0, 1)."""
    radius = 6.0
    pts = rng.uniform(-radius, radius, (n, 2))
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    noisy = pts + jitter
    d = np.hypot(noisy[:, None, 0] - _BUMPS[:, 0], noisy[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)  # (n, 6)
    best = np.argmax(np.abs(values), axis=1)  # first maximum wins, as in the playground
    return pts, values[np.arange(n), best]
