"""Operator rules, one module per operator: the converter's part of the operator registry.

``converter/ops/<name>.py`` holds everything the converter asks about operator ``name``
(the names come from ``edgenn.format.operators``):

- ``TRAITS``: a ``RuleTraits`` (below), every field stated;
- ``prepare(op, g)``: fill ``op.options`` (the schema's options table, snake_case) from the
  tensors' quantization, exactly as TFLM's Prepare computes them (both the ONNX and the TFLite path);
- ``float_run(op, g, xs, n)``: the float computation (converter/float_exec.py: calibration and
  pruning run the float graph), outputs before the fused activation;
- ``ONNX`` / ``TFLITE``: import handlers by source operator type, ``handler(importer, node)``;
  the importers collect them from every rule (an empty dict: no source operator maps to it);
- optional: ``quantize_constants(op, g)``, ``fixed_output_qparams(op, g)`` (``output_quant ==
  "fixed"``), ``macs(op, g)``, ``scratch_bytes(op, g)``, ``keeps_channels(op, g)`` (refines
  ``channels == "elementwise"``), and for weighted operators ``mean_output(op, dw, mean_in)``
  (bias correction) and, for ``channels == "dense"``, ``design_rows(op, g, x)`` (least-squares refit).

Shared helpers live in ``converter/ops/common.py``, never in one operator's module.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from edgenn.format.operators import OPERATORS, check_name

OUTPUT_QUANTS = ("calibrated", "same_as_input", "fixed", "none")
CHANNELS = ("dense", "elementwise", "concat", "reshape", "blocks")


@dataclass(frozen=True)
class RuleTraits:
    """What the converter's passes, quantizer, pruning and compression ask about an operator."""

    # How the output is quantized: "calibrated" (its own measured range), "same_as_input" (the
    # kernel copies or compares bytes: pooling, reshape, pad, ...), "fixed" (softmax, logistic) or
    # "none" (the output is not quantized: booleans of a comparison, int32 indices).
    output_quant: str
    # Weighted operators: input 1 is a weight constant, quantized per channel along this axis
    # (pruning, clustering, compression and bias correction act on it). None: not weighted.
    weight_axis: int | None
    # The operator honours attrs["act"] (a clamp in real units): a following clip fuses into it.
    fused_activation: bool
    # Every input must carry the output's quantization (the quantizer inserts quantize ops).
    same_quant_inputs: bool
    # Structured pruning, how the output's channels (last axis) relate to the inputs':
    # "dense": each output channel reads every input channel (conv2d with groups 1, fully_connected):
    #          a producer of prunable channels and a consumer that gets refitted;
    # "elementwise": channel c of the output comes from channel c of every input of full width
    #          (size-1 inputs broadcast; constants of full width are sliced along), subject to
    #          ``keeps_channels(op, g)`` where the rule defines it;
    # "concat": inputs' channels side by side (last axis) or tied (other axes);
    # "reshape": a flatten: feature f holds channel f % C of the input;
    # "blocks": channels are mixed in another way: pruning does not cross this operator.
    channels: str


def check_traits(name: str, t: object) -> list[str]:
    """What is wrong with a rule's TRAITS (empty when nothing is)."""
    if not isinstance(t, RuleTraits):
        return [f"converter/ops/{name}.py: TRAITS must be a RuleTraits"]
    errs = []
    if t.output_quant not in OUTPUT_QUANTS:
        errs.append(f"{name}: output_quant {t.output_quant!r} not in {OUTPUT_QUANTS}")
    if t.channels not in CHANNELS:
        errs.append(f"{name}: channels {t.channels!r} not in {CHANNELS}")
    if t.weight_axis is not None and not isinstance(t.weight_axis, int):
        errs.append(f"{name}: weight_axis must be an int or None")
    return errs


@lru_cache(maxsize=None)
def rule(name: str) -> ModuleType:
    """The converter module (quantization rule, float execution, import handlers) of an operator."""
    return importlib.import_module(f"edgenn.converter.ops.{check_name(name)}")


def traits(name: str) -> RuleTraits:
    return rule(name).TRAITS


def call(op, g, fn: str, default=None):
    """Call an optional function ``fn(op, g)`` of the operator's rule, or return ``default``."""
    f = getattr(rule(op.type), fn, None)
    return f(op, g) if f is not None else default


def is_weighted(op_type: str) -> bool:
    return op_type in OPERATORS and traits(op_type).weight_axis is not None


def import_handlers(table: str) -> dict[str, object]:
    """Source operator type -> handler, from every rule's ``ONNX`` or ``TFLITE`` table."""
    res: dict[str, object] = {}
    for name in OPERATORS:
        for src, fn in getattr(rule(name), table).items():
            if src in res:
                raise RuntimeError(f"{table} operator {src} is claimed by two rules (one of them {name})")
            res[src] = fn
    return res
