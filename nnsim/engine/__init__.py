"""The headless engine: layers, activations, losses, optimizers, training. Never prints."""

from . import activations, initializers, losses, optimizers, regularizers, schedules
from .errors import DivergenceError
from .history import EpochRecord, History
from .layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D
from .network import Network, SummaryRow
from .trace import LayerTrace, Phase, StepTrace
from .trainer import Trainer

__all__ = ["activations", "initializers", "losses", "optimizers", "regularizers", "schedules",
           "DivergenceError", "EpochRecord", "History", "Dense", "Dropout", "Layer", "Network",
           "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten",
           "SummaryRow", "LayerTrace", "Phase", "StepTrace", "Trainer"]
