"""transpose_conv int8 kernel (TFLM reference_integer_ops::TransposeConv), vectorized over the batch.

TFLM scatters (x + input_offset) * w of every input pixel and tap into an int32 buffer of the
output, then adds the bias and requantizes per channel. The sums are taken here per tap as one
matrix product in float64 (every partial sum is an integer below 2^53: exact), placed at the
tap's output positions, cropped to the output, and wrapped to int32 as TFLM's accumulator
(addition modulo 2^32 does not depend on the order). Requantization: ChannelRequantizer.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_bias, check_channel_options, check_window, io_shapes, require
from edgenn.runtime_py.kernels.common import ChannelRequantizer, transposed_conv_sums

TRAITS = KernelTraits(overlap="none", inputs=("input", "weights", "bias"), optional=("bias",),
                      constants=("weights", "bias"))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    w, b = ins[1], ins[2] if len(ins) > 2 else None
    co = w.shape[0]
    x = ins[0].reshape((-1,) + ins[0].shape[-3:]).astype(np.float64) + int(o["input_offset"])
    oh, ow = outs[0].shape[-3], outs[0].shape[-2]
    geo = (int(o["stride_h"]), int(o["stride_w"])), (int(o["pad_top"]), int(o["pad_left"]))
    acc = transposed_conv_sums(x, w, *geo, (oh, ow)).astype(np.int64).reshape(-1, co).T  # (Co, pixels)
    if b is not None:
        acc = acc + b.astype(np.int64).reshape(co, 1)
    acc = np.ascontiguousarray(wrap_int32(acc))
    rq = ChannelRequantizer(o["out_multiplier"], o["out_shift"], co, int(o["output_offset"]), int(o["act_min"]),
                            int(o["act_max"]))
    outs[0][...] = rq(acc).T.reshape(outs[0].shape)


def check(op, model) -> None:
    """Weights (Co, KH, KW, Ci) of the input's and output's channels, a bias per channel."""
    check_window(op, model, ch_in=0)
    (x, w, *_), (y,) = io_shapes(op, model)
    require(len(w) == 4 and w[0] == y[3] and w[3] == x[3], f"weights {w} do not fit input {x} and output {y}")
    check_bias(op, model, 2, y[3])
    check_channel_options(op, y[3])
