"""fully_connected int8 kernel (TFLM reference FullyConnected / FullyConnectedPerChannel)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import requantize_to_int8, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_bias, check_channel_options, elements, io_shapes, require

TRAITS = KernelTraits(overlap="none", inputs=("input", "weights", "bias"), optional=("bias",),
                      constants=("weights", "bias"))


def run(op, model, ins, outs, scratch) -> None:
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    o = op.options
    depth = w.shape[-1]
    units = w.shape[0]
    # int8 products summed in float64 are exact (|sum| << 2**53), so BLAS does the integer work.
    xf = x.reshape(-1, depth).astype(np.float64) + o["input_offset"]
    wf = w.reshape(units, depth).astype(np.float64) + o["filter_offset"]
    acc = (xf @ wf.T).astype(np.int64)
    if b is not None:
        acc = acc + b.astype(np.int64)
    y = requantize_to_int8(wrap_int32(acc), o["out_multiplier"], o["out_shift"], o["output_offset"],
                           o["act_min"], o["act_max"])
    outs[0][...] = y.reshape(outs[0].shape)


def check(op, model) -> None:
    """Weights (units, depth): the input holds rows of depth values, the output as many rows of units."""
    (x, w, *_), (y,) = io_shapes(op, model)
    require(len(w) == 2 and elements(x) % w[1] == 0 and elements(y) == elements(x) // w[1] * w[0],
            f"weights {w} do not fit input {x} and output {y}")
    check_bias(op, model, 2, w[0])
    check_channel_options(op, w[0])
