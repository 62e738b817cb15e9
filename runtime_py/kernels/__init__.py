"""numpy int8 kernels, one module per operator: the runtime's part of the operator registry.

``runtime_py/kernels/<name>.py`` (names from ``edgenn.format.operators``) holds:

- ``TRAITS``: a ``KernelTraits`` (below), every field stated;
- ``run(op, model, ins, outs, scratch)``: ``op`` is an ``EnnOp`` (options as a dict), activations
  in ``ins``/``outs`` are ``(N, *shape)`` views into the arena (N = batch of samples), constants
  plain arrays of the tensor's shape, absent optional inputs ``None``. Vectorized over N; writes
  only through ``outs[k][...] = ...``, after reading all inputs (outputs may alias inputs). The
  C kernel (templates/kernels/<name>.c) computes the same bytes.

Shared helpers live in ``runtime_py/kernels/common.py``, never in one operator's module.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from edgenn.format.operators import check_name

# How an operator's output may share arena bytes with an input (runtime_py/memory.py). Every
# kernel, Python and C, writes its output in increasing address order, which these rules rely on.
OVERLAPS = {
    "elementwise": "in place over an input of the output's shape (each output written right after its input is read)",
    "windowed": "output pixel by pixel over input 0, placed at least min_delta bytes below it (window geometry)",
    "alias": "the output is the input's bytes (same size): nothing is copied when they are placed together",
    "concat": "each input may be its contiguous slice of the output",
    "view": ("each output may be a contiguous byte range of input 0 (slice, split): the kernel module's "
             "view_offsets(options, in_shape, out_shapes) gives each output's byte offset or None; "
             "the C kernel copies nothing for an output placed there"),
    "none": "no overlap",
}


@dataclass(frozen=True)
class KernelTraits:
    """What the memory planner, the plan checker and codegen ask about an operator's kernel."""

    overlap: str  # a key of OVERLAPS
    # Names of the inputs in order (C symbols of constant inputs are <model>_l<layer>_<name>);
    # an operator with any number of inputs repeats the last name with the input's index.
    inputs: tuple[str, ...]

    def input_name(self, k: int) -> str:
        return self.inputs[k] if k < len(self.inputs) else f"{self.inputs[-1]}{k}"


def check_traits(name: str, t: object) -> list[str]:
    """What is wrong with a kernel's TRAITS (empty when nothing is)."""
    if not isinstance(t, KernelTraits):
        return [f"runtime_py/kernels/{name}.py: TRAITS must be a KernelTraits"]
    errs = []
    if t.overlap not in OVERLAPS:
        errs.append(f"{name}: overlap {t.overlap!r} not in {sorted(OVERLAPS)}")
    if not t.inputs or not all(isinstance(s, str) and s.isidentifier() for s in t.inputs):
        errs.append(f"{name}: inputs must name every input with a C identifier")
    return errs


@lru_cache(maxsize=None)
def kernel(name: str) -> ModuleType:
    """The numpy kernel module of an operator."""
    return importlib.import_module(f"edgenn.runtime_py.kernels.{check_name(name)}")


def traits(name: str) -> KernelTraits:
    return kernel(name).TRAITS
