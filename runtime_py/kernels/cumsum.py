"""cumsum kernel: TFLM's int8 CumSum (reference_ops::CumSum with ArithmeticParams): every input
rescaled as ADD rescales its inputs, summed into an int32 accumulator that starts at
accumulator_init and wraps, each output the (exclusive: previous) accumulator requantized."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape, require
from edgenn.runtime_py.kernels.common import scaled_input

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = np.asarray(ins[0])
    a = int(o["axis"]) + 1
    s = scaled_input(x, int(o["input_offset"]), int(o["left_shift"]), int(o["input_multiplier"]), int(o["input_shift"]))
    if o["reverse"]:
        s = np.flip(s, axis=a)
    acc = np.cumsum(s, axis=a, dtype=np.int64)  # wrapping once at the end equals wrapping every addition
    if o["exclusive"]:
        acc = acc - s
    acc = wrap_int32(acc + int(o["accumulator_init"]))
    if o["reverse"]:
        acc = np.flip(acc, axis=a)
    y = multiply_by_quantized_multiplier(acc, int(o["output_multiplier"]), int(o["output_shift"])) + o["output_offset"]
    outs[0][...] = np.clip(y, o["act_min"], o["act_max"]).astype(np.int8)


def check(op, model) -> None:
    """Output of the input's shape; the axis inside it."""
    check_same_shape(op, model)
    rank = len(model.tensors[op.inputs[0]].shape)
    require(0 <= int(op.options["axis"]) < rank, f"axis {int(op.options['axis'])} of a rank-{rank} input")
