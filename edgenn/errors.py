"""User-facing errors.

Anything a user can cause (a bad file, an unsupported operator, data of the wrong shape, a model
too big for the board) raises EdgennError with a one-line message that says what is wrong and,
where possible, what to do. The CLI prints it on stderr and exits with status 2.

Something the user should know but that does not stop the work (a dynamic batch axis fixed to
1, a scale clamped into the kernels' range) is an EdgennWarning (``warn``) or, when it is only
information, an EdgennNote (``note``): ordinary Python warnings, which the CLI prints as one
``edgenn: warning: ...`` / ``edgenn: note: ...`` line each.
"""
from __future__ import annotations

import os
import warnings


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


#: What a step of the pipeline may raise when it trips over an input it did not foresee.
UNFORESEEN = (ArithmeticError, AttributeError, IndexError, KeyError, TypeError, ValueError)


def unforeseen(where: str, doing: str, blame: str, e: Exception) -> ModelFormatError:
    """The one-line error for ``e``, raised while ``doing`` at ``where`` (a file, node or operator):
    ``blame`` names what is malformed, or it is an edgenn bug. Re-raises ``e`` itself, traceback and
    all, under EDGENN_DEBUG=1. Use: ``except UNFORESEEN as e: raise unforeseen(...) from None``."""
    if os.environ.get("EDGENN_DEBUG"):
        raise e
    return ModelFormatError(f"{where}: {doing} ({type(e).__name__}: {str(e)[:200]}); {blame} are malformed, or "
                            "this is an edgenn bug (set EDGENN_DEBUG=1 for a traceback and please report it)")


def read_file(path: str | os.PathLike, what: str = "", error: type[EdgennError] | None = None,
              limit: int | None = None) -> bytes:
    """The bytes of a file (at most ``limit``), with a one-line error naming ``what`` if it cannot be read."""
    err = error or ModelFormatError
    label = f"{what} {path}" if what else f"{path}"
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except FileNotFoundError:
        raise err(f"{label}: no such file") from None
    except IsADirectoryError:
        raise err(f"{label}: is a directory, not a file") from None
    except OSError as e:
        raise err(f"{label}: cannot read ({e.strerror})") from None


def unsupported_operators(source: str, found: dict[str, list], supported: list[str]) -> UnsupportedOpError:
    """One error for every unsupported operator of a model, on one line: each operator type with its
    count, where it first occurs and why (when known), then the supported types.

    ``found``: operator type -> [count, first place (e.g. "node 'conv3'", "operator 4"), reason or ""]."""
    items = []
    for op_type, (count, where, why) in found.items():
        items.append(f"{op_type} x{count} (first: {where}{'; ' + why if why else ''})")
    total = sum(v[0] for v in found.values())
    return UnsupportedOpError(f"{source}: {total} operators of {len(found)} unsupported types: {', '.join(items)} "
                              f"(supported: {', '.join(sorted(supported))})")


class EdgennWarning(UserWarning):
    """Something about the user's input that edgenn worked around (the work goes on)."""


class EdgennNote(EdgennWarning):
    """Information about a choice edgenn made for the user (the work goes on)."""


def warn(message: str) -> None:
    """Report a one-line warning (see EdgennWarning)."""
    warnings.warn(message, EdgennWarning, stacklevel=2)


def note(message: str) -> None:
    """Report a one-line note (see EdgennNote)."""
    warnings.warn(message, EdgennNote, stacklevel=2)
