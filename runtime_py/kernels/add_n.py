"""add_n int8 kernel (TFLM reference_ops::AddN for int8), with one rescaling per input.

acc = initial + sum_k MBQM((x_k + input_offset[k]) << left_shift, input_multiplier[k], input_shift[k])
in int32, then output = clamp(MBQM(acc, output multiplier, shift) + output_offset). All inputs
have the output's shape.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import INT8_VALUES, lookup256, scaled_input

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",), variadic=True)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    acc = np.full(outs[0].shape, int(o["initial"]), np.int64)
    for k, x in enumerate(ins):
        scaled = scaled_input(INT8_VALUES, int(o["input_offset"][k]), int(o["left_shift"]),
                              int(o["input_multiplier"][k]), int(o["input_shift"][k]))
        acc = wrap_int32(acc + lookup256(scaled, np.broadcast_to(x, outs[0].shape)))
    y = multiply_by_quantized_multiplier(acc, int(o["output_multiplier"]), int(o["output_shift"]))
    outs[0][...] = np.clip(y + int(o["output_offset"]), int(o["act_min"]), int(o["act_max"])).astype(np.int8)


check = check_broadcast  # every input broadcasts to the output's shape
