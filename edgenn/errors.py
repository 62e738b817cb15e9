"""User-facing errors.

Anything a user can cause (a bad file, an unsupported operator, data of the wrong shape, a model
too big for the board) raises EdgennError with a one-line message that says what is wrong and,
where possible, what to do. The CLI prints it on stderr and exits with status 2.
"""
from __future__ import annotations


class EdgennError(Exception):
    """An error caused by the user's input, reported without a traceback."""


class UnsupportedOpError(EdgennError):
    """The source model uses an operator (or an operator variant) edgenn cannot convert."""


class ModelFormatError(EdgennError):
    """A model file is missing, truncated, corrupt or of the wrong kind."""


class DataError(EdgennError):
    """Calibration, test or input data does not match the model."""


class FitError(EdgennError):
    """The model does not fit the chosen board."""


class ToolchainError(EdgennError):
    """A compiler or emulator is missing or failed."""
