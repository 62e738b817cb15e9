"""Resource limits for reading untrusted model files.

A damaged or hostile file may declare enormous shapes, arenas, tensor or operator counts. Readers
check what a file declares against these limits (and against the file's own size) before they
allocate anything or start a loop over it, and refuse it with a one-line ModelFormatError.
The limits are far above what a model for a microcontroller or a small Linux board needs.
"""
from __future__ import annotations

MAX_TENSOR_BYTES = 1 << 30  # one tensor (activation or constant): 1 GiB (VGG-19's fc6 weight is 411 MB in float)
MAX_ARENA_BYTES = 1 << 30  # the whole activation arena of an .enn file: 1 GiB
MAX_RANK = 8
MAX_OPERATORS = 10_000  # operator counts, graph depth (passes are linear or quadratic in it)
MAX_TENSORS = 100_000


def tensor_bytes(shape, itemsize: int) -> int:
    """Bytes of a tensor of ``shape`` (exact Python integers: no overflow on absurd shapes)."""
    n = itemsize
    for d in shape:
        n *= max(int(d), 0)
    return n


def tensor_problem(shape, itemsize: int, limit: int = MAX_TENSOR_BYTES) -> str | None:
    """Why a tensor of ``shape`` is refused (None: it is not): rank or size over the limits."""
    if len(shape) > MAX_RANK:
        return f"has rank {len(shape)} (at most {MAX_RANK})"
    nbytes = tensor_bytes(shape, itemsize)
    if nbytes > limit:
        return f"declares {nbytes:,} bytes (shape {list(shape)}), over the limit of {limit:,} bytes (damaged file?)"
    return None


def count_problem(what: str, count: int, limit: int) -> str | None:
    """Why ``count`` ``what`` are refused (None: they are not)."""
    if count > limit:
        return f"declares {count:,} {what}, more than the {limit:,} edgenn reads (damaged file?)"
    return None
