"""Weight initializers. Each draws an array of `shape` from a seeded `np.random.Generator`.

Scales (fan_in = inputs to the layer, fan_out = its units):
glorot/xavier: uniform ±√(6/(fan_in+fan_out)), normal std √(2/(fan_in+fan_out));
he/kaiming: uniform ±√(6/fan_in), normal std √(2/fan_in); lecun: normal std 1/√fan_in;
playground: uniform [−0.5, 0.5) (its biases start at 0.1); orthogonal: a random matrix with
orthonormal rows or columns (QR of a normal draw, as Keras; recurrent layers' U). Zeros is allowed on purpose:
it is a lesson (hidden units that start equal stay equal).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .registry import Registry

Init = Callable[..., np.ndarray]
INITIALIZERS: Registry[Init] = Registry("initializer")


def _shape_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out): a dense W (fan_in, units); a conv W (filters, channels, kh, kw) has
    fan_in = channels·kh·kw and fan_out = filters·kh·kw (as Keras and PyTorch count them)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 4:
        field = shape[2] * shape[3]
        return shape[1] * field, shape[0] * field
    return shape[0], shape[-1]


def zeros(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    return np.zeros(shape)


def ones(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    return np.ones(shape)


def constant(rng: np.random.Generator, shape: tuple[int, ...], value: float = 0.0, **_: float) -> np.ndarray:
    return np.full(shape, float(value))


def uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float = 0.05, **_: float) -> np.ndarray:
    return rng.uniform(-limit, limit, size=shape)


def normal(rng: np.random.Generator, shape: tuple[int, ...], std: float = 0.05, **_: float) -> np.ndarray:
    return rng.normal(0.0, std, size=shape)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    fi, fo = _shape_fans(shape)
    lim = np.sqrt(6.0 / (fi + fo))
    return rng.uniform(-lim, lim, size=shape)


def glorot_normal(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    fi, fo = _shape_fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fi + fo)), size=shape)


def he_uniform(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    fi, _fo = _shape_fans(shape)
    lim = np.sqrt(6.0 / fi)
    return rng.uniform(-lim, lim, size=shape)


def he_normal(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    fi, _fo = _shape_fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fi), size=shape)


def lecun_normal(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    fi, _fo = _shape_fans(shape)
    return rng.normal(0.0, 1.0 / np.sqrt(fi), size=shape)


def playground(rng: np.random.Generator, shape: tuple[int, ...], **_: float) -> np.ndarray:
    """TensorFlow Playground's weights: uniform [−0.5, 0.5)."""
    return rng.uniform(-0.5, 0.5, size=shape)


def orthogonal(rng: np.random.Generator, shape: tuple[int, ...], gain: float = 1.0,
               **_: float) -> np.ndarray:
    """Orthonormal rows (or columns, whichever are fewer) times `gain`: Q of the QR
    decomposition of a normal draw, its signs fixed by R's diagonal (Keras' Orthogonal). A
    recurrent U (units × k·units) starts so: h·U neither shrinks nor grows h at the start."""
    rows = shape[0] if len(shape) > 1 else 1
    cols = int(np.prod(shape)) // rows
    a = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


for _f, _al in [(zeros, ["zero"]), (ones, ["one"]), (constant, []), (uniform, ["random_uniform"]),
                (normal, ["random_normal"]), (glorot_uniform, ["xavier_uniform", "glorot", "xavier"]),
                (glorot_normal, ["xavier_normal"]), (he_uniform, ["kaiming_uniform"]),
                (he_normal, ["kaiming_normal", "he", "kaiming"]), (lecun_normal, ["lecun"]),
                (playground, []), (orthogonal, [])]:
    INITIALIZERS.add(_f.__name__, _f, aliases=_al)

#: Default bias for each weight initializer where it differs from zero.
DEFAULT_BIAS = {"playground": 0.1}


def get(name: str) -> Init:
    """The initializer called `name`; `ValueError` lists the valid names."""
    return INITIALIZERS.get(name)


def names() -> list[str]:
    return INITIALIZERS.names(aliases=True)
