"""The headless engine: layers, activations, losses, optimizers, training. Never prints."""

from . import activations, initializers, losses, optimizers, regularizers, schedules
from .errors import DivergenceError
from .history import EpochRecord, History
from .layers import Dense, Dropout, Layer
from .network import Network, SummaryRow
from .trace import LayerTrace, Phase, StepTrace
from .trainer import Trainer

__all__ = ["activations", "initializers", "losses", "optimizers", "regularizers", "schedules",
           "DivergenceError", "EpochRecord", "History", "Dense", "Dropout", "Layer", "Network",
           "SummaryRow", "LayerTrace", "Phase", "StepTrace", "Trainer"]
