"""Reusable widgets of the nnsim TUI (each module owns one widget and its DEFAULT_CSS)."""

from .boundary import BoundaryView, grid_points
from .curve import CurveView, curve_points
from .network_view import NetworkView, sample_activations
from .neuron_card import NeuronCard, neuron_card_text
from .plots import CachedPlot, PlotsPanel
from .stepper import StepperPanel, phase_text, progress_line

__all__ = ["BoundaryView", "grid_points", "CurveView", "curve_points", "NetworkView",
           "sample_activations", "NeuronCard", "neuron_card_text", "CachedPlot", "PlotsPanel",
           "StepperPanel", "phase_text", "progress_line"]
