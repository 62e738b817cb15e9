"""numpy int8 kernels, one module per operator: the runtime's part of the operator registry.

``runtime_py/kernels/<name>.py`` (names from ``edgenn.format.operators``) holds:

- ``TRAITS``: a ``KernelTraits`` (below), every field stated;
- optionally ``check(op, model)``: what the operator's kernels (numpy and C) rely on beyond what
  the traits state (shape consistency of inputs, outputs and weights, option ranges, index
  options inside the input); raises ``ValueError`` with a short reason. ``check_op`` runs the
  generic checks the traits allow first, so a ``check`` sees the right number of tensors;
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

import numpy as np

from edgenn.errors import ModelFormatError
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
    # Inputs that may be absent (index -1, or left off at the end): e.g. a fully connected bias.
    optional: tuple[str, ...] = ()
    # Inputs that must be constants (weights, tables: the C reads them from flash).
    constants: tuple[str, ...] = ()
    # Any number (>= 1) of inputs, all named after the last one (concat, add_n).
    variadic: bool = False
    # How many outputs; 0: one or more (split).
    outputs: int = 1

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
    for field_name in ("optional", "constants"):
        unknown = [s for s in getattr(t, field_name) if s not in t.inputs]
        if unknown:
            errs.append(f"{name}: {field_name} {unknown} are not among the inputs {t.inputs}")
    if not isinstance(t.outputs, int) or t.outputs < 0:
        errs.append(f"{name}: outputs must be a count >= 0 (0: one or more)")
    return errs


def _generic_problem(op, model, t: KernelTraits) -> str | None:
    """What the traits say is wrong with an operator of a loaded model (None: nothing)."""
    n_in = len(op.inputs)
    bad = [i for i in list(op.inputs) + list(op.outputs) if not -1 <= i < len(model.tensors)]
    if bad:
        return f"refers to tensor {bad[0]} of {len(model.tensors)}"
    if t.variadic:
        if n_in < 1 or any(i < 0 for i in op.inputs):
            return f"needs one or more {t.inputs[-1]} tensors, has {op.inputs}"
    elif n_in > len(t.inputs):
        return f"has {n_in} inputs, at most {len(t.inputs)} ({', '.join(t.inputs)})"
    else:
        for k, nm in enumerate(t.inputs):
            if (k >= n_in or op.inputs[k] < 0) and nm not in t.optional:
                return f"input {k} ({nm}) is missing"
    want = t.outputs
    if (want and len(op.outputs) != want) or not op.outputs:
        return f"has {len(op.outputs)} outputs, needs {want or 'one or more'}"
    for k, ti in enumerate(op.inputs):
        if ti >= 0 and t.input_name(k) in t.constants and not model.tensors[ti].is_const:
            return f"input {k} ({t.input_name(k)}) must be a constant"
    for ti in op.outputs:
        if ti < 0 or model.tensors[ti].is_const or model.tensors[ti].arena_offset < 0:
            return f"output {ti} is not an activation placed in the arena"
    return _option_range_problem(op, model)


# Options the kernels take as zero points of int8 or int16 tensors (an offset is a negated zero point),
# a pad value (int8) and per-channel shifts (enn_mbqm's domain, a byte each in the generated C);
# beyond these ranges the C's int32 arithmetic could overflow. The zero point
# (offset) of input 0 / output 0 of an int8 tensor is an int8 value (it pads convolutions).
_OPTION_RANGES = {"zero_point": (-32768, 32767), "_offset": (-32767, 32768), "pad_value": (-128, 127),
                  "out_shift": (-31, 31)}
# Keys whose tensor is input 0 or output 0: the range when that tensor is int8 (an offset is the
# negated zero point for most kernels, the zero point itself for a few, hence [-128, 128]).
_INT8_SIDE = {"input_zero_point": ("inputs", (-128, 127)), "input_offset": ("inputs", (-128, 128)),
              "output_zero_point": ("outputs", (-128, 127)), "output_offset": ("outputs", (-128, 128))}


# Clamp bounds are values of output 0: a bound beyond its type would wrap in the C's narrowing store.
_ACT_KEYS = ("act_min", "act_max")


def _option_range(op, model, key: str) -> tuple[int, int] | None:
    if key in _ACT_KEYS:
        if op.outputs and op.outputs[0] >= 0 and model.tensors[op.outputs[0]].dtype in ("int8", "int16"):
            info = np.iinfo(model.tensors[op.outputs[0]].dtype)
            return int(info.min), int(info.max)
        return None
    side = _INT8_SIDE.get(key)
    if side is not None:
        ids = getattr(op, side[0])
        if ids and ids[0] >= 0 and model.tensors[ids[0]].dtype == "int8":
            return side[1]
    return next((r for suffix, r in _OPTION_RANGES.items() if key.endswith(suffix)), None)


def _option_range_problem(op, model) -> str | None:
    for key, v in op.options.items():
        lo_hi = _option_range(op, model, key)
        if lo_hi is None or isinstance(v, str):
            continue
        a = np.asarray(v).reshape(-1)
        if a.size and (a.dtype.kind not in "iub" or int(a.min()) < lo_hi[0] or int(a.max()) > lo_hi[1]):
            return f"has option {key} outside [{lo_hi[0]}, {lo_hi[1]}]"
    lo, hi = (op.options.get(k) for k in _ACT_KEYS)
    if isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer)) and lo > hi:
        return f"has act_min {lo} above act_max {hi} (an empty clamp range)"
    return None


def check_op(op, model, index: int | None = None) -> None:
    """Refuse an operator its kernels cannot run safely: arity, constant inputs and outputs from the
    traits, then the kernel module's own ``check``. Raises ModelFormatError naming the operator."""
    mod = kernel(op.type)
    try:
        why = _generic_problem(op, model, mod.TRAITS)
        if why is None and hasattr(mod, "check"):
            mod.check(op, model)
    except (ValueError, IndexError, KeyError, TypeError) as e:  # a check tripping over malformed options
        why = str(e) if isinstance(e, ValueError) and str(e) else f"has malformed options or shapes ({type(e).__name__})"
    if why:
        where = f"operator {index} {op.name!r}" if index is not None else f"operator {op.name!r}"
        raise ModelFormatError(f"model '{model.name}': {where} ({op.type}) {why}")


def check_model(model) -> None:
    """``check_op`` for every operator: what the interpreter and code generation call before anything runs."""
    for i, op in enumerate(model.ops):
        check_op(op, model, i)


@lru_cache(maxsize=None)
def kernel(name: str) -> ModuleType:
    """The numpy kernel module of an operator."""
    return importlib.import_module(f"edgenn.runtime_py.kernels.{check_name(name)}")


def traits(name: str) -> KernelTraits:
    return kernel(name).TRAITS
