"""maximum_minimum int8 kernel (TFLM MAXIMUM / MINIMUM, reference_ops::MaximumMinimumBroadcastSlow):
the larger (or smaller) raw int8 value of the two broadcast inputs. TFLM does not requantize: the
converter gives both inputs the output's quantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import operand

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))


def run(op, model, ins, outs, scratch) -> None:
    rank = len(model.tensors[op.outputs[0]].shape)
    a, b = operand(model, op, ins, 0, rank), operand(model, op, ins, 1, rank)
    outs[0][...] = np.maximum(a, b) if op.options["is_maximum"] else np.minimum(a, b)


check = check_broadcast  # every input broadcasts to the output's shape
