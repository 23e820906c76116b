"""nnsim: a terminal laboratory for learning how neural networks learn."""

__version__ = "0.1.0"
