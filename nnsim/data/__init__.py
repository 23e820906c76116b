"""Seeded datasets, generated or loaded without network access.

>>> from nnsim.data import load_dataset
>>> ds = load_dataset("circle", noise=0.1, seed=1)
>>> ds.x_train.shape, ds.task
((250, 2), 'binary')

Never prints; never imports textual or rich. See docs/datasets.md.
"""

from .dataset import Dataset, InputKind, Task
from .errors import DataError
from .features import DEFAULT_FEATURES, FEATURES
from .registry import DATASETS, MAX_SAMPLES, MIN_SAMPLES, DatasetSpec, get, load_dataset

__all__ = [
    "DATASETS",
    "DEFAULT_FEATURES",
    "FEATURES",
    "MAX_SAMPLES",
    "MIN_SAMPLES",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "InputKind",
    "Task",
    "get",
    "load_dataset",
]
