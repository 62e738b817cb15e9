"""clip int8 kernel: clamp to [act_min, act_max]; with requantize, TFLM's ReluQuantized."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = ins[0]
    if o.get("requantize"):
        x = multiply_by_quantized_multiplier(x.astype(np.int64) + o["input_offset"], o["multiplier"], o["shift"]) \
            + o["output_offset"]
    outs[0][...] = np.clip(x, o["act_min"], o["act_max"])


check = check_same_shape  # elementwise: the output has the input's shape
