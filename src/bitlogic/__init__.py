"""bitlogic: logic-gate and LUT neural networks, trained in PyTorch, deployed bit-exactly."""

__version__ = "0.1.0"
