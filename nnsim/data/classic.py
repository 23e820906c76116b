"""Classic small datasets: moons, blobs, logic gates, 1-D curves, admissions.

Generators return ``(inputs, targets)`` in a fixed order; callers shuffle and
split. 2-D sets use the playground's [-6, 6] scale.
"""

from __future__ import annotations

import numpy as np

Raw = tuple[np.ndarray, np.ndarray]

MOONS_SCALE = 3.5


def moons(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """Two interleaving half circles (as sklearn's make_moons), centred and scaled by 3.5.

    Outer moon is class 0, inner moon class 1. ``noise`` is the Gaussian
    standard deviation in the unscaled moon units (sklearn's ``noise``).
    """
    n_out = n - n // 2
    n_in = n // 2
    t_out = rng.uniform(0.0, np.pi, n_out)
    t_in = rng.uniform(0.0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)
    pts = np.concatenate([outer, inner]) + rng.normal(0.0, 1.0, (n, 2)) * noise
    pts = (pts - np.array([0.5, 0.25])) * MOONS_SCALE
    labels = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return pts, labels


def blobs(n: int, noise: float, rng: np.random.Generator, classes: int) -> Raw:
    """``classes`` Gaussian blobs with centres evenly spaced on a circle of radius 4.

    Variance grows from 0.5 (noise 0) to 4 (noise 0.5), like the playground's
    two-Gaussian set. Blob k (centre at angle 90 deg + k * 360/classes deg) is class k.
    """
    std = np.sqrt(0.5 + 3.5 * (noise / 0.5))
    counts = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    pts_list, lab_list = [], []
    for k, m in enumerate(counts):
        angle = np.pi / 2 + 2 * np.pi * k / classes
        centre = 4.0 * np.array([np.cos(angle), np.sin(angle)])
        pts_list.append(centre + rng.normal(0.0, std, (m, 2)))
        lab_list.append(np.full(m, k, dtype=np.int64))
    return np.concatenate(pts_list), np.concatenate(lab_list)


GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)

#: Truth-table outputs for the rows (0,0), (0,1), (1,0), (1,1).
GATE_TABLES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor-gate": (0, 1, 1, 0),
}


def gate(name: str) -> Raw:
    """The four-row truth table of a two-input logic gate."""
    return GATE_INPUTS.copy(), np.array(GATE_TABLES[name], dtype=np.int64)


SINE_RANGE = (-np.pi, np.pi)
POLY_RANGE = (-2.0, 2.0)


def sine(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """y = sin(x) + N(0, noise^2) for x uniform in [-pi, pi]."""
    x = rng.uniform(*SINE_RANGE, n)
    y = np.sin(x) + rng.normal(0.0, 1.0, n) * noise
    return x.reshape(-1, 1), y


def polynomial(n: int, noise: float, rng: np.random.Generator) -> Raw:
    """y = (x^3 - 3x) / 2 + N(0, noise^2) for x uniform in [-2, 2] (y in [-1, 1] without noise)."""
    x = rng.uniform(*POLY_RANGE, n)
    y = (x**3 - 3.0 * x) / 2.0 + rng.normal(0.0, 1.0, n) * noise
    return x.reshape(-1, 1), y


ADMISSIONS_COLUMNS = ["gre", "gpa", "rank_1", "rank_2", "rank_3", "rank_4"]
#: Logistic model used to draw admissions (intercept, gre, gpa, rank 2, rank 3, rank 4).
ADMISSIONS_COEF = (-3.99, 0.00226, 0.804, -0.675, -1.34, -1.55)


def admissions(n: int, rng: np.random.Generator) -> Raw:
    """Synthetic graduate admissions: GRE, GPA, one-hot rank -> admitted (0/1).

    GRE ~ 588 +/- 115 (200-800, multiples of 10), GPA ~ 3.39 +/- 0.38
    (2.26-4.00), correlated 0.38; rank 1-4 with frequencies about
    15/38/30/17 %. Admission is drawn from a logistic model with the
    coefficients in ``ADMISSIONS_COEF`` (about a third are admitted).
    No real applicant data is involved.
    """
    rank = rng.choice(4, size=n, p=np.array([61, 151, 121, 67]) / 400.0) + 1
    z_gpa = rng.normal(size=n)
    z_gre = 0.38 * z_gpa + np.sqrt(1 - 0.38**2) * rng.normal(size=n)
    gpa = np.round(np.clip(3.39 + 0.38 * z_gpa, 2.26, 4.0), 2)
    gre = np.round(np.clip(588.0 + 115.0 * z_gre, 200.0, 800.0) / 10.0) * 10.0
    b0, b_gre, b_gpa, b2, b3, b4 = ADMISSIONS_COEF
    logit = b0 + b_gre * gre + b_gpa * gpa + np.select(
        [rank == 2, rank == 3, rank == 4], [b2, b3, b4], 0.0
    )
    admitted = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    onehot = (rank[:, None] == np.arange(1, 5)[None, :]).astype(np.float64)
    return np.column_stack([gre, gpa, onehot]), admitted
